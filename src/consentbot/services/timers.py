"""Run due timers: invitations, reminders to confirm, expiries, and LATER follow-ups."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

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

T = TypeVar("T")

log = structlog.get_logger(__name__)


def _groups(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
        """Run several timers in one transaction: one disk flush for all of them.

        The group's contacts are locked first with SKIP LOCKED: timers whose contact another
        scheduler (or a turn in progress) holds are left for it or for the next round, so
        several processes running timers never fire one twice nor wait on each other.
        Should any turn fail, the group is rolled back whole and each timer is run again
        in a transaction of its own, so one bad timer never holds up the others.
        """
        deps = self.deps
        try:
            ran = 0
            async with deps.db.transaction() as session:
                held = await TimerRepository(session).lock_contacts(p for _, p, _ in due)
                due = [timer for timer in due if timer[1] in held]
                now = deps.clock()
                for timer_id, participant_id, kind in due:
                    outcome = await self.pipeline.run(
                        session,
                        ForParticipant(participant_id),
                        TimerDue(timer_id),
                        SYSTEM,
                        BySms(OutboxKind.for_timer(kind)),
                        now,
                    )
                    ran += outcome.turn is not None
            return ran
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
