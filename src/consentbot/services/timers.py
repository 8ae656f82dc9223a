"""Run due timers: reminders to confirm, expiries, and LATER follow-ups."""

from __future__ import annotations

from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.services.deps import ServiceDeps
from consentbot.services.pipeline import BySms, ForParticipant, TimerDue, TurnPipeline
from consentbot.store.timers import TimerRepository

SYSTEM = Provenance(Channel.SCHEDULER, "system", Auth.SYSTEM)


class TimerService:
    """Finds due timers and runs each through the turn pipeline in its own transaction."""

    def __init__(self, deps: ServiceDeps, pipeline: TurnPipeline, batch: int = 100) -> None:
        self.deps = deps
        self.pipeline = pipeline
        self.batch = batch

    async def run_due(self) -> int:
        """Run every timer due now; return how many ran."""
        async with self.deps.db.read() as session:
            due = await TimerRepository(session).due(self.deps.clock(), self.batch)
        ran = 0
        for timer_id, participant_id, kind in due:
            ran += await self.run_one(timer_id, participant_id, OutboxKind.for_timer(kind))
        if ran:
            self.deps.on_outbox()
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
