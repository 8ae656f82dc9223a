"""The outbox: messages written with the change they report, sent after commit."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from consentbot.channels.segments import encoding_for, plan_messages, segment_count
from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.store.tables import Contact, OutboxMessage, Participant


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A message that may or may not have gone: what staff need to follow it up, and no more."""

    id: int
    reference: str
    kind: OutboxKind
    study: str | None
    participant: str | None
    """The research team's reference; None for a one-time code (no participant yet)."""
    created_at: datetime
    claimed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A message taken for sending, with its decrypted-later contact."""

    message: OutboxMessage
    contact: Contact


class OutboxRepository:
    """Queue, claim and settle outbound messages."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(
        self,
        *,
        contact_id: int,
        participant_id: int | None,
        kind: OutboxKind,
        body: str,
        always: bool,
        send_after: datetime,
        now: datetime,
        max_segments: int,
    ) -> list[OutboxMessage]:
        """Queue ``body``, split into SMS-sized messages of at most ``max_segments`` each."""
        messages = []
        for part in plan_messages(body, max_segments):
            message = OutboxMessage(
                contact_id=contact_id,
                participant_id=participant_id,
                reference=secrets.token_hex(16),
                kind=kind,
                body=part,
                ucs2=encoding_for(part) == "ucs2",
                segments=segment_count(part),
                always=always,
                send_after=send_after,
                created_at=now,
            )
            self.session.add(message)
            messages.append(message)
        return messages

    async def any_due(self, now: datetime) -> bool:
        """Whether anything waits to be sent (a cheap read before taking the write lock)."""
        statement = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.send_after <= now)
            .limit(1)
        )
        return (await self.session.exec(statement)).first() is not None

    async def claim_due(self, now: datetime, limit: int) -> list[ClaimedMessage]:
        """Take due messages for sending (status "sending"), oldest first.

        A number that sent STOP gets only the messages marked ``always``: the rest are
        settled as "suppressed" here, so they are never sent later either.
        """
        statement = (
            select(OutboxMessage, Contact)
            .join(Contact, col(Contact.id) == col(OutboxMessage.contact_id))
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.send_after <= now)
            .order_by(col(OutboxMessage.id))
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )
        claimed = []
        for message, contact in (await self.session.exec(statement)).all():
            if contact.stopped and not message.always:
                message.status = OutboxStatus.SUPPRESSED
            else:
                message.status = OutboxStatus.SENDING
                message.claimed_at = now
                message.attempts += 1
                claimed.append(ClaimedMessage(message, contact))
            self.session.add(message)
        return claimed

    def _stuck(self, claimed_before: datetime) -> SelectOfScalar[OutboxMessage]:
        # Served by ix_outbox_due (status first). No claimed_at: claimed before it was kept.
        return select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.SENDING,
            or_(
                col(OutboxMessage.claimed_at) < claimed_before,
                col(OutboxMessage.claimed_at).is_(None),
            ),
        )

    async def any_stuck(self, claimed_before: datetime) -> bool:
        """Whether a message was claimed before ``claimed_before`` and is still "sending"."""
        return (await self.session.exec(self._stuck(claimed_before).limit(1))).first() is not None

    async def mark_stuck(self, claimed_before: datetime) -> list[OutboxMessage]:
        """Mark messages still "sending" since before ``claimed_before`` as "unknown"."""
        statement = self._stuck(claimed_before).with_for_update(skip_locked=True)
        stuck = list((await self.session.exec(statement)).all())
        for message in stuck:
            message.status = OutboxStatus.UNKNOWN
            self.session.add(message)
        return stuck

    async def unknown(self) -> list[UnknownMessage]:
        """Every message in "unknown", oldest first, with its study and participant reference.

        The result holds no body, secret or number: the listing must never show them.
        """
        statement = (
            select(OutboxMessage, Participant)
            .outerjoin(Participant, col(Participant.id) == col(OutboxMessage.participant_id))
            .where(OutboxMessage.status == OutboxStatus.UNKNOWN)
            .order_by(col(OutboxMessage.id))
        )
        return [
            UnknownMessage(
                id=message.id or 0,
                reference=message.reference,
                kind=message.kind,
                study=participant.study_id if participant else None,
                participant=participant.reference if participant else None,
                created_at=message.created_at,
                claimed_at=message.claimed_at,
            )
            for message, participant in (await self.session.exec(statement)).all()
        ]

    async def get(self, message_id: int) -> OutboxMessage | None:
        """The message with this id."""
        return await self.session.get(OutboxMessage, message_id)

    async def by_provider_id(self, provider_id: str, *, lock: bool = False) -> OutboxMessage | None:
        """The message a gateway's status callback refers to (``lock``: FOR UPDATE)."""
        statement = select(OutboxMessage).where(OutboxMessage.provider_id == provider_id)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.exec(statement)).first()

    async def by_reference(self, reference: str, *, lock: bool = False) -> OutboxMessage | None:
        """The message with this (unguessable) reference, as Kannel's delivery reports give it."""
        statement = select(OutboxMessage).where(OutboxMessage.reference == reference)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.exec(statement)).first()

    async def for_contact(self, contact_id: int) -> Sequence[OutboxMessage]:
        """Every message queued for a number, oldest first."""
        statement = (
            select(OutboxMessage)
            .where(OutboxMessage.contact_id == contact_id)
            .order_by(col(OutboxMessage.id))
        )
        return (await self.session.exec(statement)).all()
