"""Removing one person's conversation text and phone number, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.outbox import OutboxStatus
from consentbot.store.tables import (
    Contact,
    InboundMessage,
    OutboxMessage,
    PhoneVerification,
    WebMessage,
    WebSession,
)


def tombstone(contact_id: int) -> str:
    """What an erased contact's ``phone_hash`` becomes: unique, and never a real hash.

    Real hashes are 64 hex digits; this has a colon, so no number can ever match it.
    """
    return f"erased:{contact_id}"


class ErasureRepository:
    """Wipe text and numbers; the rows that say something happened (and when) stay."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_web_sessions(self, participant_id: int) -> list[int]:
        """Lock the participant's web sessions and return their ids.

        Taken before the contact lock, the order a web turn takes them in, so an
        erasure and a web answer at the same moment wait for each other instead of
        deadlocking on PostgreSQL.
        """
        statement = (
            select(WebSession.id)
            .where(WebSession.participant_id == participant_id)
            .order_by(col(WebSession.id))
            .with_for_update()
        )
        return [row for row in (await self.session.exec(statement)).all() if row is not None]

    async def clear_web_sessions(self, session_ids: list[int], now: datetime) -> None:
        """Delete the sessions' transcripts and codes, blank their text, and end them now.

        An ended session's cookie opens nothing, so the browser can take no more turns.
        """
        if not session_ids:
            return
        await self.session.exec(
            delete(WebMessage).where(col(WebMessage.web_session_id).in_(session_ids))
        )
        await self.session.exec(
            delete(PhoneVerification).where(col(PhoneVerification.web_session_id).in_(session_ids))
        )
        sessions = col(WebSession.id).in_(session_ids)
        await self.session.exec(
            update(WebSession)
            .where(sessions)
            .values(conversation="{}", waiting_text=None, waiting_question=None)
        )
        # Those still running end now; an ended one keeps its expiry (retention counts from it).
        await self.session.exec(
            update(WebSession)
            .where(sessions, col(WebSession.expires_at) > now)
            .values(expires_at=now)
        )

    async def blank_outbox(
        self, *, participant_id: int | None = None, contact_id: int | None = None
    ) -> None:
        """Empty the text and secret of the participant's (or the number's) messages.

        One still waiting is settled as ``erased``: its text is gone, and it must not go.
        """
        if (participant_id is None) == (contact_id is None):
            raise ValueError("give exactly one of participant_id and contact_id")
        owner = (
            col(OutboxMessage.participant_id) == participant_id
            if participant_id is not None
            else col(OutboxMessage.contact_id) == contact_id
        )
        await self.session.exec(
            update(OutboxMessage)
            .where(owner, col(OutboxMessage.status) == OutboxStatus.PENDING)
            .values(status=OutboxStatus.ERASED)
        )
        await self.session.exec(
            update(OutboxMessage).where(owner).values(body="", secret_encrypted=None)
        )

    async def wipe_contact(self, contact: Contact, now: datetime) -> None:
        """Remove the number: no ciphertext, a hash no number matches, no link to inbound ids.

        Codes sent to the number go too (they hold it encrypted), and so do the texts
        of every message to it.
        """
        assert contact.id is not None
        real_hash = contact.phone_hash
        contact.phone_encrypted = ""
        contact.phone_hash = tombstone(contact.id)
        contact.erased_at = now
        contact.prompted_participant_id = None
        self.session.add(contact)
        await self.session.exec(
            update(InboundMessage)
            .where(col(InboundMessage.contact_id) == contact.id)
            .values(contact_id=None)
        )
        await self.session.exec(
            delete(PhoneVerification).where(col(PhoneVerification.phone_hash) == real_hash)
        )
        await self.blank_outbox(contact_id=contact.id)
