"""The outbox: messages written with the change they report, sent after commit."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.channels.segments import encoding_for, plan_messages, segment_count
from consentbot.domain.outbox import PROACTIVE, OutboxKind, OutboxStatus
from consentbot.store.tables import Contact, OutboxMessage


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
        settled as "suppressed" here, so they are never sent later either. A message does
        not overtake an earlier one to the same number that waits for a retry (see
        :func:`_waits_behind_a_retry`).
        """
        statement = (
            select(OutboxMessage, Contact)
            .join(Contact, col(Contact.id) == col(OutboxMessage.contact_id))
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.send_after <= now,
                ~_waits_behind_a_retry(now),
            )
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

    async def get(self, message_id: int) -> OutboxMessage | None:
        """The message with this id."""
        return await self.session.get(OutboxMessage, message_id)

    async def by_provider_id(self, provider_id: str) -> OutboxMessage | None:
        """The message a gateway's status callback refers to."""
        statement = select(OutboxMessage).where(OutboxMessage.provider_id == provider_id)
        return (await self.session.exec(statement)).first()

    async def for_contact(self, contact_id: int) -> Sequence[OutboxMessage]:
        """Every message queued for a number, oldest first."""
        statement = (
            select(OutboxMessage)
            .where(OutboxMessage.contact_id == contact_id)
            .order_by(col(OutboxMessage.id))
        )
        return (await self.session.exec(statement)).all()


def _waits_behind_a_retry(now: datetime) -> ColumnElement[bool]:
    """True for a message with an earlier one to the same number that failed and waits for
    its retry: it goes after that one, as it was queued (an expiry notice must not arrive
    before the reminder that fell due earlier). A reply never waits behind a message we
    started, which could be held for quiet hours, since replies are never held.
    """
    earlier = aliased(OutboxMessage)
    return (
        select(earlier.id)
        .where(
            col(earlier.contact_id) == col(OutboxMessage.contact_id),
            col(earlier.id) < col(OutboxMessage.id),
            col(earlier.status) == OutboxStatus.PENDING,
            col(earlier.attempts) > 0,
            col(earlier.send_after) > now,
            or_(col(earlier.kind).not_in(PROACTIVE), col(OutboxMessage.kind).in_(PROACTIVE)),
        )
        .exists()
    )
