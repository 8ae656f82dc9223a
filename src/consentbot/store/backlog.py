"""How much work waits: the outbox, due timers and webhook deliveries, read for ``/metrics``.

Each figure is one indexed query (``ix_outbox_due``, ``ix_timer_due``,
``ix_webhook_delivery_due``): a count and the oldest due time of one status's index range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.outbox import OutboxStatus
from consentbot.domain.timers import TimerStatus
from consentbot.domain.webhooks import DeliveryStatus
from consentbot.store.tables import OutboxMessage, Timer, WebhookDelivery


@dataclass(frozen=True, slots=True)
class Waiting:
    """How many items wait in one queue, and since when the oldest one is due."""

    count: int
    oldest_due: datetime | None
    """None when nothing is due."""


@dataclass(frozen=True, slots=True)
class Backlog:
    """Every queue at one moment."""

    outbox_due: Waiting
    """Pending messages that may go now."""
    outbox_held: int
    """Pending messages held until later: quiet hours, a retry's delay, the send rate."""
    outbox_sending: int
    """Claimed by a dispatcher and handed to the gateway, outcome not yet recorded."""
    timers_due: Waiting
    webhooks_due: Waiting
    webhooks_waiting: int
    """Deliveries pending but not due yet: a retry's backoff, an attempt's lease."""


class BacklogRepository:
    """Reads queue sizes; writes nothing."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def backlog(self, now: datetime) -> Backlog:
        """Every queue's size and oldest due item, as of ``now``."""
        outbox_status, outbox_due_at = OutboxMessage.status, OutboxMessage.send_after
        pending = outbox_status == OutboxStatus.PENDING
        deliveries_pending = WebhookDelivery.status == DeliveryStatus.PENDING
        return Backlog(
            outbox_due=await self._waiting(pending, outbox_due_at <= now, due=outbox_due_at),
            outbox_held=await self._count(pending, outbox_due_at > now),
            outbox_sending=await self._count(outbox_status == OutboxStatus.SENDING),
            timers_due=await self._waiting(
                Timer.status == TimerStatus.PENDING, Timer.due_at <= now, due=Timer.due_at
            ),
            webhooks_due=await self._waiting(
                deliveries_pending,
                WebhookDelivery.next_attempt_at <= now,
                due=WebhookDelivery.next_attempt_at,
            ),
            webhooks_waiting=await self._count(
                deliveries_pending, WebhookDelivery.next_attempt_at > now
            ),
        )

    async def _waiting(self, *conditions: Any, due: Any) -> Waiting:
        statement = select(func.count(), func.min(due)).where(*conditions)
        count, oldest = (await self.session.exec(statement)).one()
        return Waiting(int(count), oldest)

    async def _count(self, *conditions: Any) -> int:
        statement = select(func.count()).where(*conditions)
        return int((await self.session.exec(statement)).one())
