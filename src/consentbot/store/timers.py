"""Timers: reminders and expiries that live in the database and survive restarts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert
from sqlalchemy import select as sql_select
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.timers import TimerKind, TimerStatus
from consentbot.store.direct_sql import execute
from consentbot.store.index_choice import NotFromIndex
from consentbot.store.loaded_rows import adopt, table_of
from consentbot.store.plain_rows import plain_rows
from consentbot.store.tables import Contact, Participant, Timer


class TimerRepository:
    """Schedule, cancel and claim timers inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def schedule(
        self, participant_id: int, kind: TimerKind, due_at: datetime, now: datetime
    ) -> None:
        """Set the participant's timer of ``kind`` to ``due_at``, replacing a pending one."""
        await self.cancel(participant_id, [kind], now)
        values = {"participant": participant_id, "kind": kind, "due_at": due_at, "now": now}
        await execute(self.session, _SCHEDULE, values)

    def schedule_new(
        self, participant_ids: Iterable[int], kind: TimerKind, due_at: datetime, now: datetime
    ) -> None:
        """Add a timer of ``kind`` for each of these new participants (nothing to replace)."""
        self.session.add_all(
            Timer(participant_id=participant_id, kind=kind, due_at=due_at, created_at=now)
            for participant_id in participant_ids
        )

    async def cancel(self, participant_id: int, kinds: Iterable[TimerKind], now: datetime) -> None:
        """Cancel the participant's pending timers of these kinds."""
        kinds = list(kinds)
        if not kinds:
            return
        params = {"participant": participant_id, "kinds": kinds, "now": now}
        await execute(self.session, _CANCEL, params)

    async def due(
        self,
        now: datetime,
        limit: int,
        *,
        kind: TimerKind | None = None,
        study_id: str | None = None,
    ) -> Sequence[tuple[int, int, TimerKind]]:
        """(id, participant, kind) of pending timers due by ``now``, oldest first; only of
        ``kind`` and for ``study_id``'s participants when given.

        Not locked: the pipeline claims each one after locking its contact.
        """
        statement = (
            select(Timer.id, Timer.participant_id, Timer.kind)
            .where(Timer.status == TimerStatus.PENDING, Timer.due_at <= now)
            .order_by(col(Timer.due_at), col(Timer.id))
            .limit(limit)
        )
        if kind is not None:
            statement = statement.where(Timer.kind == kind)
        if study_id is not None:
            statement = statement.join(
                Participant, col(Participant.id) == col(Timer.participant_id)
            ).where(Participant.study_id == study_id)
        return [
            (timer_id, participant_id, TimerKind(kind))
            for timer_id, participant_id, kind in (await self.session.exec(statement)).all()
            if timer_id is not None
        ]

    async def pending_participants(self, kind: TimerKind, study_id: str) -> list[int]:
        """The participants of ``study_id`` with a pending timer of ``kind``, oldest first."""
        statement = (
            select(Timer.participant_id)
            .join(Participant, col(Participant.id) == col(Timer.participant_id))
            .where(
                Timer.status == TimerStatus.PENDING,
                Timer.kind == kind,
                Participant.study_id == study_id,
            )
            .order_by(col(Timer.id))
        )
        return list((await self.session.exec(statement)).all())

    async def lock_contacts(self, participant_ids: Iterable[int]) -> dict[int, Contact]:
        """Lock these participants' contact rows until commit, in id order; return the
        contact of each participant whose contact this transaction now holds.

        SKIP LOCKED (PostgreSQL): a contact held by another scheduler, or by a turn in
        progress, is passed by rather than waited for, so two schedulers share a due list
        instead of queueing on it, and never run one timer twice. Those participants'
        timers wait for the next round. SQLite has one writer: every participant is held.
        """
        wanted = sorted(set(participant_ids))
        if not wanted:
            return {}
        rows = await plain_rows(self.session, _LOCK_CONTACTS, {"ids": wanted})
        return {row[0]: adopt(self.session, Contact, row[1:]) for row in rows}

    async def claim_many(self, timer_ids: Sequence[int], now: datetime) -> dict[int, ClaimedTimer]:
        """Take those of these timers still pending, marked done (call with their contacts
        locked); return them by id.

        A timer another worker took first, or one already done, is left out. Marked done
        in the claim itself, by one statement for the whole group: the turn it starts is
        written in the same transaction, and a timer it decides not to run is marked
        cancelled instead (:meth:`cancel_claimed`).
        """
        if not timer_ids:
            return {}
        params = {"ids": list(timer_ids), "now": now}
        rows = await plain_rows(self.session, _CLAIM, params)
        return {timer_id: ClaimedTimer(timer_id, TimerKind(kind)) for timer_id, kind in rows}

    async def claim(self, timer_id: int, now: datetime) -> ClaimedTimer | None:
        """Take one still-pending timer, marked done; None if another worker has it or it
        is done (see :meth:`claim_many`)."""
        return (await self.claim_many([timer_id], now)).get(timer_id)

    async def cancel_claimed(self, timer_id: int, now: datetime) -> None:
        """Mark a timer this transaction claimed as cancelled: it had nothing left to do."""
        await execute(self.session, _CANCEL_CLAIMED, {"timer_id": timer_id, "now": now})


@dataclass(frozen=True, slots=True)
class ClaimedTimer:
    """A timer taken by this transaction: what its turn needs, and no tracked row."""

    id: int
    kind: TimerKind


# Built once: building a statement and keying it for the compiled cache costs more than
# running it, and turns and reminder rounds run these all day.
# Core statements, built once, run by direct_sql: the unit of work's flush of a tracked
# Timer cost several times the insert.
_SCHEDULE = insert(Timer.__table__).values(  # type: ignore[attr-defined]
    participant_id=bindparam("participant"),
    kind=bindparam("kind"),
    due_at=bindparam("due_at"),
    status=TimerStatus.PENDING,
    created_at=bindparam("now"),
)
_CANCEL = (
    update(Timer)
    .where(
        col(Timer.participant_id) == bindparam("participant"),
        col(Timer.status) == TimerStatus.PENDING,
        col(Timer.kind).in_(bindparam("kinds", expanding=True)),
    )
    .values(status=TimerStatus.CANCELLED, done_at=bindparam("now"))
    # The session's timers are not brought up to date: a turn never reads a timer it
    # cancelled, and finding which rows changed would cost a second round of work.
    .execution_options(synchronize_session=False)
)
_CONTACT = table_of(Contact)
_PARTICIPANT = table_of(Participant)
# Core, the participant's id then every column of its contact, which loaded_rows makes the
# session's row (an ORM query of the pairs cost several times the statement).
_LOCK_CONTACTS = (
    sql_select(_PARTICIPANT.c.id, _CONTACT)
    .join(_CONTACT, _CONTACT.c.id == _PARTICIPANT.c.contact_id)
    .where(_PARTICIPANT.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_CONTACT.c.id)
    .with_for_update(skip_locked=True, of=_CONTACT)
)
_CLAIM = (
    update(Timer)
    .where(
        col(Timer.id).in_(bindparam("ids", expanding=True)),
        # Checked on each timer found by id, not sought: given fifty ids, SQLite chose to
        # read every pending timer through ix_timer_due instead (100,000 of them, at volume).
        NotFromIndex(col(Timer.status)) == TimerStatus.PENDING,
    )
    .values(status=TimerStatus.DONE, done_at=bindparam("now"))
    .returning(col(Timer.id), col(Timer.kind))
)
"""No SKIP LOCKED: the caller holds the timers' contacts, and every writer of a pending
timer locks its contact first, so no other transaction can hold one of these rows."""
_CANCEL_CLAIMED = (
    update(Timer)
    .where(col(Timer.id) == bindparam("timer_id"))
    .values(status=TimerStatus.CANCELLED, done_at=bindparam("now"))
)
