"""Read the whole ledger for an audit without holding up the service, and check its chains.

Participants are read in batches, each in its own read-only transaction, so a long
scan never holds a write lock (SQLite) or one snapshot for its whole length
(PostgreSQL). Within a batch every statement sees the same snapshot, so a
participant's head, events and projection always belong together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.findings import Finding, Severity
from consentbot.domain.ledger_hash import GENESIS, event_hash
from consentbot.domain.provenance import Auth, ConfirmedVia
from consentbot.domain.transitions import ConsentAction
from consentbot.store.database import Database
from consentbot.store.ledger import hashed_fields
from consentbot.store.tables import ConsentEvent, ConsentState, Participant

BatchHook = Callable[[int], Awaitable[None]]
"""Called with the number of participants read so far, while the batch's read
transaction is still open: a test pauses there to show that writers go on."""


@dataclass(frozen=True, slots=True)
class ParticipantLedger:
    """One participant's head, events (in seq order) and projection, read together."""

    id: int
    study: str
    reference: str
    ledger_seq: int
    ledger_head: str
    events: tuple[ConsentEvent, ...]
    states: tuple[ConsentState, ...]
    permitted_purposes: str = ""


async def ledger_batches(
    db: Database, *, batch_size: int = 200, on_batch: BatchHook | None = None
) -> AsyncIterator[list[ParticipantLedger]]:
    """Every participant's ledger, oldest participant first, ``batch_size`` at a time."""
    after, read = 0, 0
    while True:
        async with db.read() as session:
            await _one_snapshot(session, db)
            batch = await _read_batch(session, after, batch_size)
            if not batch:
                return
            read += len(batch)
            if on_batch is not None:
                await on_batch(read)
        yield batch
        after = batch[-1].id


async def _one_snapshot(session: AsyncSession, db: Database) -> None:
    # PostgreSQL's default READ COMMITTED gives each statement its own snapshot: a
    # turn committed between reading the participants and their events would look
    # like a broken chain. A SQLite read transaction is one snapshot already.
    if not db.is_sqlite:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


async def _read_batch(session: AsyncSession, after: int, limit: int) -> list[ParticipantLedger]:
    participants = (
        await session.exec(
            select(Participant)
            .where(col(Participant.id) > after)
            .order_by(col(Participant.id))
            .limit(limit)
        )
    ).all()
    ids = [p.id for p in participants if p.id is not None]
    if not ids:
        return []
    events = (
        await session.exec(
            select(ConsentEvent)
            .where(col(ConsentEvent.participant_id).in_(ids))
            .order_by(col(ConsentEvent.participant_id), col(ConsentEvent.seq))
        )
    ).all()
    states = (
        await session.exec(select(ConsentState).where(col(ConsentState.participant_id).in_(ids)))
    ).all()
    return [
        ParticipantLedger(
            id=participant_id,
            study=p.study_id,
            reference=p.reference,
            ledger_seq=p.ledger_seq,
            ledger_head=p.ledger_head,
            events=tuple(e for e in events if e.participant_id == participant_id),
            states=tuple(s for s in states if s.participant_id == participant_id),
            permitted_purposes=p.permitted_purposes,
        )
        for p in participants
        if (participant_id := p.id) is not None
    ]


def chain_faults(ledger: ParticipantLedger) -> list[Finding]:
    """The first break in the participant's hash chain, or a head that does not end it.

    Detects an altered event (hash mismatch), a removed or reordered one (seq gap or
    broken prev_hash), and a removed or unannounced last event (head mismatch).
    """
    previous = GENESIS
    for expected_seq, event in enumerate(ledger.events, start=1):
        problem = _event_problem(ledger, event, expected_seq, previous)
        if problem is not None:
            return [Finding(Severity.FAULT, event.seq, event.id, problem)]
        previous = event.hash
    count = len(ledger.events)
    if ledger.ledger_seq == count and ledger.ledger_head == previous:
        return []
    if ledger.ledger_seq > count:
        problem = (
            f"the participant's last event is seq {ledger.ledger_seq} with hash "
            f"{ledger.ledger_head[:12]}…, but the ledger ends at seq {count}: an event was removed"
        )
    elif ledger.ledger_seq < count:
        problem = (
            f"the ledger goes on to seq {count} after the participant's last event, "
            f"seq {ledger.ledger_seq}: an event was added without going through the service"
        )
    else:
        problem = "the participant's head hash is not the hash of its last event"
    return [Finding(Severity.FAULT, ledger.ledger_seq, None, problem)]


def _event_problem(
    ledger: ParticipantLedger, event: ConsentEvent, expected_seq: int, previous: str
) -> str | None:
    if event.seq != expected_seq:
        return f"expected seq {expected_seq}: an earlier event was removed"
    if event.prev_hash != previous:
        return "prev_hash does not match the event before it"
    if event.hash != event_hash(event.prev_hash, hashed_fields(event)):
        return "hash does not match the event's contents: it was altered"
    if event.study_id != ledger.study:
        return f"the event is about study {event.study_id!r}, its participant's is {ledger.study!r}"
    return confirmed_via_problem(event)


def confirmed_via_problem(event: ConsentEvent) -> str | None:
    """What is wrong with an event's ``confirmed_via``, if anything.

    Only a worker records a confirmation given in person or by a phone call: the field
    belongs on a confirm, made in an assisted session, and names one of the known ways.
    """
    via = event.confirmed_via
    if via is None:
        return None
    if via not in {way.value for way in ConfirmedVia}:
        return f"confirmed_via {via!r} is not a way a confirmation is recorded"
    if event.action != ConsentAction.CONFIRM or event.auth is not Auth.ASSISTED:
        return (
            f"confirmed_via {via!r} on a {event.action} with auth {event.auth}: "
            "only a confirm recorded in an assisted session carries it"
        )
    return None
