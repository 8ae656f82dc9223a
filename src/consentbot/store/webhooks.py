"""Webhooks and their deliveries: registered, queued with the ledger event, claimed, settled."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, func
from sqlalchemy.orm import aliased
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.webhooks import DeliveryStatus
from consentbot.store.tables import Webhook, WebhookDelivery

DELIVERIES_QUEUED = "consentbot.webhook_deliveries_queued"
"""Set in ``session.info`` by :meth:`WebhookRepository.queue`: the deliverer wakes after
the commit (:meth:`consentbot.store.database.Database.on_commit`)."""


def webhook_aad(webhook_id: int) -> str:
    """What a webhook's sealed secret is bound to: copied to another row, it will not open."""
    return f"webhook:{webhook_id}"


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """One webhook's deliveries: what ``webhook status`` shows."""

    webhook_id: int
    delivered: int
    failed: int
    backlog: int
    """Pending: not yet accepted, waiting for a first attempt or a retry."""
    cancelled: int
    oldest_pending: datetime | None
    last_delivered: datetime | None
    last_error: str | None
    """What the newest failed attempt of a pending delivery met, if one did."""


# Built once: the ledger asks on every consent change.
_ACTIVE_FOR = (
    select(Webhook)
    .where(col(Webhook.study_id) == bindparam("study"), col(Webhook.removed_at).is_(None))
    .order_by(col(Webhook.id))
)


class WebhookRepository:
    """The ``webhook`` and ``webhook_delivery`` tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, study_id: str, url: str, now: datetime) -> Webhook:
        """A new webhook with an empty secret: the caller seals it once the id exists."""
        webhook = Webhook(study_id=study_id, url=url, secret_encrypted="", created_at=now)
        self.session.add(webhook)
        await self.session.flush()
        return webhook

    async def get(self, webhook_id: int) -> Webhook | None:
        """The webhook with this id (removed or not)."""
        return await self.session.get(Webhook, webhook_id)

    async def all(self, study_id: str | None = None) -> Sequence[Webhook]:
        """Every webhook (of ``study_id``), removed ones included, oldest first."""
        statement = select(Webhook).order_by(col(Webhook.id))
        if study_id is not None:
            statement = statement.where(Webhook.study_id == study_id)
        return (await self.session.exec(statement)).all()

    async def active_for(self, study_id: str) -> Sequence[Webhook]:
        """The study's webhooks that receive deliveries."""
        return (await self.session.exec(_ACTIVE_FOR, params={"study": study_id})).all()

    async def remove(self, webhook: Webhook, now: datetime) -> int:
        """Stop deliveries to ``webhook``; its pending ones are cancelled. Returns how many."""
        assert webhook.id is not None
        webhook.removed_at = now
        self.session.add(webhook)
        result = await self.session.exec(
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.webhook_id) == webhook.id,
                col(WebhookDelivery.status) == DeliveryStatus.PENDING,
            )
            .values(status=DeliveryStatus.CANCELLED)
        )
        return int(result.rowcount)

    def queue(self, webhook_id: int, participant_id: int, body: str, now: datetime) -> None:
        """A delivery of ``body``, due at once; written with the caller's transaction."""
        self.session.info[DELIVERIES_QUEUED] = True
        self.session.add(
            WebhookDelivery(
                webhook_id=webhook_id,
                participant_id=participant_id,
                message_id="msg_" + secrets.token_hex(16),
                body=body,
                created_at=now,
                next_attempt_at=now,
            )
        )

    async def any_due(self, now: datetime) -> bool:
        """Whether a delivery is due (a read before taking the write lock to claim it)."""
        found = await self.session.exec(_ANY_DUE, params={"now": now})
        return found.first() is not None

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[tuple[WebhookDelivery, Webhook]]:
        """Take due deliveries, oldest first, each first in line for its participant.

        A taken delivery stays ``pending`` with ``next_attempt_at`` moved to
        ``lease_until``: if the process dies mid-attempt it is tried again then (at least
        once). Rows are locked with SKIP LOCKED on PostgreSQL, so processes share the work.
        """
        params = {"now": now, "limit": limit}
        claimed = list((await self.session.exec(_CLAIM_DUE, params=params)).all())
        for delivery, _webhook in claimed:
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.next_attempt_at = lease_until
            self.session.add(delivery)
        return claimed

    async def lock_claimed(self, delivery_id: int, attempts: int) -> WebhookDelivery | None:
        """The delivery, locked, if it is still pending on the attempt this process made."""
        statement = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.attempts == attempts,
                WebhookDelivery.status == DeliveryStatus.PENDING,
            )
            .with_for_update()
        )
        return (await self.session.exec(statement)).first()

    async def counts(self, webhook_ids: Sequence[int]) -> dict[int, DeliveryCounts]:
        """Deliveries per status of each webhook, with the oldest waiting and newest sent."""
        found: dict[int, DeliveryCounts] = {}
        for webhook_id in webhook_ids:
            mine = col(WebhookDelivery.webhook_id) == webhook_id
            status = col(WebhookDelivery.status)
            per_status = select(status, func.count()).where(mine).group_by(status)
            by_status = {
                DeliveryStatus(row[0]): int(row[1])
                for row in (await self.session.exec(per_status)).all()
            }
            oldest = select(func.min(WebhookDelivery.created_at)).where(
                mine, status == DeliveryStatus.PENDING
            )
            newest = select(func.max(WebhookDelivery.delivered_at)).where(mine)
            backlog = by_status.get(DeliveryStatus.PENDING, 0)
            found[webhook_id] = DeliveryCounts(
                webhook_id=webhook_id,
                delivered=by_status.get(DeliveryStatus.DELIVERED, 0),
                failed=by_status.get(DeliveryStatus.FAILED, 0),
                backlog=backlog,
                cancelled=by_status.get(DeliveryStatus.CANCELLED, 0),
                oldest_pending=(await self.session.exec(oldest)).one(),
                last_delivered=(await self.session.exec(newest)).one(),
                last_error=await self._last_pending_error(webhook_id) if backlog else None,
            )
        return found

    async def _last_pending_error(self, webhook_id: int) -> str | None:
        statement = (
            select(WebhookDelivery.last_error)
            .where(
                WebhookDelivery.webhook_id == webhook_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                col(WebhookDelivery.last_error).is_not(None),
            )
            .order_by(col(WebhookDelivery.last_attempt_at).desc())
            .limit(1)
        )
        return (await self.session.exec(statement)).first()

    async def failed_for_study(self, study_id: str) -> int:
        """Deliveries of the study's active webhooks that were given up on."""
        statement = (
            select(func.count())
            .select_from(WebhookDelivery)
            .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
            .where(
                Webhook.study_id == study_id,
                col(Webhook.removed_at).is_(None),
                WebhookDelivery.status == DeliveryStatus.FAILED,
            )
        )
        return int((await self.session.exec(statement)).one())

    async def for_participant(self, participant_id: int) -> Sequence[WebhookDelivery]:
        """A participant's deliveries, oldest first."""
        statement = (
            select(WebhookDelivery)
            .where(WebhookDelivery.participant_id == participant_id)
            .order_by(col(WebhookDelivery.id))
        )
        return (await self.session.exec(statement)).all()


def _waits_behind_an_earlier_one() -> ColumnElement[bool]:
    """True for a delivery with an earlier one still pending to the same webhook about the
    same participant: consent changes reach a receiver in the order they happened."""
    earlier = aliased(WebhookDelivery)
    return (
        select(earlier.id)
        .where(
            col(earlier.webhook_id) == col(WebhookDelivery.webhook_id),
            col(earlier.participant_id) == col(WebhookDelivery.participant_id),
            col(earlier.status) == DeliveryStatus.PENDING,
            col(earlier.id) < col(WebhookDelivery.id),
        )
        .exists()
    )


# Built once, with the time and the limit as parameters: the deliverer asks on every round,
# and building the correlated subquery costs more than running it.
_ANY_DUE = (
    select(WebhookDelivery.id)
    .where(
        WebhookDelivery.status == DeliveryStatus.PENDING,
        col(WebhookDelivery.next_attempt_at) <= bindparam("now"),
        ~_waits_behind_an_earlier_one(),
    )
    .limit(1)
)
_CLAIM_DUE = (
    select(WebhookDelivery, Webhook)
    .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
    .where(
        WebhookDelivery.status == DeliveryStatus.PENDING,
        col(WebhookDelivery.next_attempt_at) <= bindparam("now"),
        col(Webhook.removed_at).is_(None),
        ~_waits_behind_an_earlier_one(),
    )
    .order_by(col(WebhookDelivery.id))
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True, of=WebhookDelivery)
)
