"""The consent ledger: append events and keep the projection (audits: store/ledger_audit.py).

Every event also queues a delivery to each of the study's webhooks, in the same
transaction: the change and the news of it are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain import permitted
from consentbot.domain.ledger_hash import event_hash
from consentbot.domain.provenance import Auth
from consentbot.domain.status import ConsentStatus
from consentbot.domain.transitions import ConsentAction
from consentbot.domain.webhooks import ERASED, ConsentChange, payload
from consentbot.store.direct_sql import execute
from consentbot.store.loaded_rows import keep, unsaved
from consentbot.store.tables import ConsentEvent, ConsentState, Participant, Webhook
from consentbot.store.webhooks import WebhookRepository

_ACTIVE_WEBHOOKS = "consentbot.ledger.active_webhooks"
"""``session.info`` key: each study's active webhooks, as this transaction first read them."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """What the consent service knows about a change before it is chained."""

    purpose_id: str
    action: str
    from_status: str
    to_status: str
    withdrawal_level: str | None
    content_version: int
    content_digest: str
    language: str
    channel: str
    actor: str
    auth: Auth
    assisted_by: str | None
    occurred_at: datetime
    pending_since: datetime | None
    confirm_from: datetime | None = None
    confirm_by: datetime | None = None
    confirmed_via: str | None = None


OPTIONAL_HASHED = ("auth", "assisted_by", "confirm_from", "confirm_by", "confirmed_via")
"""Fields added after the first events were written: hashed only when set, so the
hashes of older events (which lack them) stay valid, and blanking one still breaks the chain."""


_HASHED = (
    "participant_id",
    "seq",
    "study_id",
    "purpose_id",
    "action",
    "from_status",
    "to_status",
    "withdrawal_level",
    "content_version",
    "content_digest",
    "language",
    "channel",
    "actor",
    "occurred_at",
)


def hashed_fields(event: ConsentEvent) -> dict[str, object]:
    """The fields an event's hash covers: everything but its own id and hash."""
    return _hashed({name: getattr(event, name) for name in _HASHED + OPTIONAL_HASHED})


def _hashed(values: Mapping[str, object]) -> dict[str, object]:
    fields = {name: values[name] for name in _HASHED}
    for name in OPTIONAL_HASHED:
        value = values[name]
        if value is not None:
            fields[name] = value
    return fields


class LedgerClosed(RuntimeError):
    """An event for a participant erased on request: their ledger ends with the erasure."""


_events: Table = ConsentEvent.__table__  # type: ignore[attr-defined]
_states: Table = ConsentState.__table__  # type: ignore[attr-defined]
_EVENT_COLUMNS = tuple(column.key for column in _events.columns if column.key != "id")

# Built once, on the tables rather than the models: each consent change runs both.
_APPEND_EVENT = insert(_events).values({key: bindparam(key) for key in _EVENT_COLUMNS})


def _upsert_state(dialect: Any) -> Any:
    """The participant's row for the purpose, added or replaced by the change."""
    statement = dialect.insert(_states).values(
        {column.key: bindparam(column.key) for column in _states.columns}
    )
    return statement.on_conflict_do_update(
        index_elements=["participant_id", "purpose_id"],
        set_={
            column.key: statement.excluded[column.key]
            for column in _states.columns
            if not column.primary_key
        },
    )


_UPSERT_STATE = {"sqlite": _upsert_state(sqlite), "postgresql": _upsert_state(postgresql)}


class LedgerRepository:
    """Append-only writes to consent_event, with consent_state updated alongside."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, participant: Participant, new: NewEvent) -> ConsentEvent:
        """Chain ``new`` after the participant's last event and update the projection.

        The caller holds the participant's contact lock and commits both together.
        Raises :class:`LedgerClosed` once the participant is erased: whatever routed a
        turn to them, no consent may be recorded after a deletion request.
        """
        assert participant.id is not None
        if participant.erased_at is not None:
            raise LedgerClosed(f"participant {participant.id} was erased: their ledger is closed")
        row: dict[str, Any] = {
            "participant_id": participant.id,
            "seq": participant.ledger_seq + 1,
            "study_id": participant.study_id,
            "purpose_id": new.purpose_id,
            "action": new.action,
            "from_status": new.from_status,
            "to_status": new.to_status,
            "withdrawal_level": new.withdrawal_level,
            "content_version": new.content_version,
            "content_digest": new.content_digest,
            "language": new.language,
            "channel": new.channel,
            "actor": new.actor,
            "auth": new.auth,
            "assisted_by": new.assisted_by,
            "occurred_at": new.occurred_at,
            "confirm_from": new.confirm_from,
            "confirm_by": new.confirm_by,
            "confirmed_via": new.confirmed_via,
            "prev_hash": participant.ledger_head,
        }
        row["hash"] = event_hash(row["prev_hash"], _hashed(row))
        participant.ledger_seq = row["seq"]
        participant.ledger_head = row["hash"]
        participant.permitted_purposes = permitted.after_change(
            participant.permitted_purposes, new.purpose_id, ConsentStatus(new.to_status)
        )
        keep(self.session, participant)
        # The event and the projection's row are written at once as Core statements: the
        # ORM's flush of tracked rows cost several times what the two statements take, and
        # nothing in the transaction reads them back as tracked rows. They go on the
        # session's connection because through the session each would first flush the
        # participant's row: once per change instead of once per turn.
        await execute(self.session, _APPEND_EVENT, row)
        await execute(
            self.session,
            _UPSERT_STATE[self.session.get_bind().dialect.name],
            {
                "participant_id": participant.id,
                "purpose_id": new.purpose_id,
                "status": new.to_status,
                "since": new.occurred_at,
                "pending_since": new.pending_since,
                "content_version": new.content_version,
                "language": new.language,
                "withdrawal_level": new.withdrawal_level,
            },
        )
        # What the turn's receipt and webhooks read of the event: an unsaved instance, its
        # values set as a load would set them (the model's constructor would check and
        # track each, for a row nothing writes through the session).
        event = unsaved(ConsentEvent, row)
        await self._queue_webhooks(participant, event)
        return event

    async def _queue_webhooks(self, participant: Participant, event: ConsentEvent) -> None:
        """One delivery of the event per active webhook of the study.

        An erasure's events say ``to: "erased"`` (the ledger has ``withdrawn`` and the action
        ``erase``): the receiver must stop using the data and delete what it can.
        """
        webhooks = WebhookRepository(self.session)
        # Once per study and transaction, without flushing: no turn adds a webhook, and a
        # turn that changes five purposes would ask five times.
        known: dict[str, Sequence[Webhook]] = self.session.info.setdefault(_ACTIVE_WEBHOOKS, {})
        if (active := known.get(event.study_id)) is None:
            with self.session.no_autoflush:
                active = known[event.study_id] = await webhooks.active_for(event.study_id)
        if not active:
            return
        body = payload(
            ConsentChange(
                study=event.study_id,
                participant=participant.reference,
                purpose=event.purpose_id,
                from_status=event.from_status,
                to_status=ERASED if event.action == ConsentAction.ERASE else event.to_status,
                at=event.occurred_at,
                content_version=event.content_version,
                event_hash=event.hash,
            )
        )
        for webhook in active:
            assert webhook.id is not None
            webhooks.queue(webhook.id, event.participant_id, body, event.occurred_at)

    async def history(self, participant_id: int) -> Sequence[ConsentEvent]:
        """A participant's events, oldest first."""
        statement = (
            select(ConsentEvent)
            .where(ConsentEvent.participant_id == participant_id)
            .order_by(col(ConsentEvent.seq))
        )
        return (await self.session.exec(statement)).all()
