"""Run due timers: invitations, reminders to confirm, expiries, and LATER follow-ups."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import structlog

from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.domain.timers import TimerKind
from consentbot.services.deps import ServiceDeps
from consentbot.services.pipeline import BySms, ForParticipant, TimerDue, TurnPipeline
from consentbot.store.timers import TimerRepository

SYSTEM = Provenance(Channel.SCHEDULER, "system", Auth.SYSTEM)

GROUP = 50
"""Timers run per transaction: a due cohort or a morning's reminders cost a commit per
fifty people, while the database's single writer (SQLite) is never held for long."""

log = structlog.get_logger(__name__)


def _groups(
    due: Sequence[tuple[int, int, TimerKind]], size: int
) -> Iterator[Sequence[tuple[int, int, TimerKind]]]:
    """Groups of at most ``size`` due timers, oldest first, no participant twice in one
    group: a person's second due timer (an expiry after a reminder) must see what the
    first did, so it goes in a later group."""
    rest = list(due)
    while rest:
        group: list[tuple[int, int, TimerKind]] = []
        seen: set[int] = set()
        later = []
        for timer in rest:
            if len(group) < size and timer[1] not in seen:
                group.append(timer)
                seen.add(timer[1])
            else:
                later.append(timer)
        yield group
        rest = later


class TimerService:
    """Finds due timers and runs each through the turn pipeline, a group per transaction."""

    def __init__(self, deps: ServiceDeps, pipeline: TurnPipeline, batch: int = 100) -> None:
        self.deps = deps
        self.pipeline = pipeline
        self.batch = batch

    async def run_due(
        self,
        *,
        kind: TimerKind | None = None,
        study_id: str | None = None,
        limit: int | None = None,
    ) -> int:
        """Run up to ``limit`` (default: the batch size) timers due now, only of ``kind``
        and ``study_id`` when given; return how many ran."""
        async with self.deps.db.read() as session:
            due = await TimerRepository(session).due(
                self.deps.clock(), limit or self.batch, kind=kind, study_id=study_id
            )
        ran = 0
        for group in _groups(due, GROUP):
            ran += await self._run_group(group)
        if ran:
            self.deps.on_outbox()
        return ran

    async def _run_group(self, due: Sequence[tuple[int, int, TimerKind]]) -> int:
        """Run several timers in one transaction: one disk flush for all of them, and the
        group's people loaded together (:meth:`TurnPipeline.run_timers`).

        Should any turn fail, the group is rolled back whole and each timer is run again
        in a transaction of its own, so one bad timer never holds up the others.
        """
        deps = self.deps
        try:
            async with deps.db.transaction() as session:
                return await self.pipeline.run_timers(session, due, SYSTEM, deps.clock())
        except Exception:
            if len(due) == 1:
                raise
            log.warning("timers.group_failed", timers=len(due), exc_info=True)
        ran = 0
        for timer_id, participant_id, kind in due:
            try:
                ran += await self.run_one(timer_id, participant_id, OutboxKind.for_timer(kind))
            except Exception:
                log.exception("timer.failed", timer=timer_id, participant=participant_id)
        return ran

    async def run_one(self, timer_id: int, participant_id: int, kind: OutboxKind) -> int:
        """Run one timer if it is still pending; 1 if it ran, else 0.

        The pipeline locks the contact before it claims the timer: the same order as an
        inbound message, which may cancel the timer, so the two never deadlock.
        """
        deps = self.deps
        async with deps.db.transaction() as session:
            outcome = await self.pipeline.run(
                session,
                ForParticipant(participant_id),
                TimerDue(timer_id),
                SYSTEM,
                BySms(kind),
                deps.clock(),
            )
        return 0 if outcome.turn is None else 1
