"""Run due timers: reminders to confirm, expiries, and LATER follow-ups."""

from __future__ import annotations

import structlog

from consentbot.conversation.proactive import on_timer
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.domain.timers import MESSAGE_TIMERS, TimerStatus
from consentbot.services.deps import ServiceDeps
from consentbot.services.participation import load_participation
from consentbot.services.turns import apply_turn, queue_sms_replies
from consentbot.store.contacts import ContactRepository
from consentbot.store.timers import TimerRepository

log = structlog.get_logger(__name__)

SYSTEM = Provenance(Channel.SCHEDULER, "system", Auth.SYSTEM)


class TimerService:
    """Finds due timers and runs each in its own transaction."""

    def __init__(self, deps: ServiceDeps, batch: int = 100) -> None:
        self.deps = deps
        self.batch = batch

    async def run_due(self) -> int:
        """Run every timer due now; return how many ran."""
        async with self.deps.db.read() as session:
            due = await TimerRepository(session).due_ids(self.deps.clock(), self.batch)
        ran = 0
        for timer_id in due:
            ran += await self.run_one(timer_id)
        if ran:
            self.deps.on_outbox()
        return ran

    async def run_one(self, timer_id: int) -> int:
        """Run one timer if it is still pending; 1 if it ran, else 0.

        Locks in the same order as inbound handling (contact, then timer) so the two
        never deadlock on PostgreSQL.
        """
        deps = self.deps
        async with deps.db.transaction() as session:
            timers = TimerRepository(session)
            peek = await timers.get(timer_id)
            if peek is None or peek.status is not TimerStatus.PENDING:
                return 0
            who = await load_participation(session, deps, peek.participant_id)
            timer = await timers.claim(timer_id)
            if timer is None:
                return 0
            now = deps.clock()
            kind = timer.kind
            if who is None or (kind in MESSAGE_TIMERS and who.contact.stopped):
                timers.finish(timer, TimerStatus.CANCELLED, now)
                log.info("timer.cancelled", kind=kind.value, participant=peek.participant_id)
                return 1
            turn = on_timer(*who.engine(deps, now), kind)
            timers.finish(timer, TimerStatus.DONE, now)
            contacts = ContactRepository(session, deps.vault)
            await apply_turn(session, contacts, who, turn, provenance=SYSTEM, now=now)
            if turn.replies:
                # A reminder asks for an answer: a bare CONFIRM that follows is about this study.
                who.contact.prompted_participant_id = who.participant_id
                session.add(who.contact)
            queue_sms_replies(
                session,
                turn,
                contact_id=who.contact_id,
                participant_id=who.participant_id,
                kind=OutboxKind.for_timer(kind),
                now=now,
                max_segments=deps.max_segments,
            )
            log.info(
                "timer.ran",
                kind=kind.value,
                participant=who.participant_id,
                changes=len(turn.changes),
            )
        return 1
