"""Publishing a changed version: ask again exactly the people a material change concerns.

Runs inside the publishing transaction, so a version is never stored without its
consequences: with ``reconsent: required`` every ``active`` or ``pending`` consent for a
changed purpose becomes ``reconsent_required`` (a ledger event with the new version,
``actor: system`` and the reason), and the person is sent the explanation and the question
again through the turn pipeline; with ``notify`` they are only told. Nobody whose consent
for those purposes is none, declined, withdrawn or expired is contacted. The outbox
sends the messages later, keeping STOP, quiet hours and the send rate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.model import Reconsent, Study
from consentbot.conversation.study_changes import AGREED
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.domain.sms_segments import plan_messages, segment_count
from consentbot.services.deps import ServiceDeps
from consentbot.services.pipeline import BySms, ForParticipant, StudyChanged, TurnPipeline
from consentbot.services.turns import joined_replies
from consentbot.store.participants import ParticipantRepository

log = structlog.get_logger(__name__)

SYSTEM = Provenance(Channel.CLI, "system", Auth.SYSTEM)
"""Who moves a consent to reconsent_required: not the person, the service on publishing."""


@dataclass(frozen=True)
class ChangeSummary:
    """Who a published change concerned, and what telling them costs."""

    study: str
    version: int
    reconsent: Reconsent
    purposes: tuple[str, ...]
    by_purpose_and_status: dict[tuple[str, str], int] = field(default_factory=dict)
    """How many consents of each changed purpose were in each status before the change."""
    participants: int = 0
    """People concerned (said yes to at least one changed purpose)."""
    stopped: int = 0
    """Of them, people whose number sent STOP: their status changes, no SMS is sent."""
    messages: int = 0
    segments: int = 0
    """SMS and segments queued (to numbers that did not send STOP)."""

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        """A plain report for the command line."""
        action = (
            "asked again (their yes stops counting until they answer)"
            if self.reconsent is Reconsent.REQUIRED
            else "told what changed (no status changes)"
        )
        report = [f"{self.participants} participant(s) {action}:"]
        for (purpose, status), count in sorted(self.by_purpose_and_status.items()):
            report.append(f"  {purpose}: {count} {status}")
        report.append(
            f"{self.messages} SMS, {self.segments} segment(s); "
            f"{self.stopped} participant(s) sent STOP and get no SMS"
        )
        return report


class StudyChangeService:
    """Applies a published version's ``changes`` to the people they concern."""

    def __init__(self, deps: ServiceDeps, pipeline: TurnPipeline) -> None:
        self.deps = deps
        self.pipeline = pipeline

    async def after_publish(
        self,
        session: AsyncSession,
        previous: Study | None,
        new: Study,
        now: datetime,
        dry_run: bool,
    ) -> ChangeSummary | None:
        """Ask again (or tell) everyone ``new.changes`` concerns, in the caller's transaction.

        None when there is nothing to do: a first version, or a version that declares no
        change. A dry run does the same (publishing rolls its whole transaction back), so
        the counts and costs it reports are the real ones.
        """
        study = new
        changes = study.changes
        if changes is None or previous is None or previous.version >= study.version:
            return None
        holders = await ParticipantRepository(session).with_status(
            study.id, changes.purposes, [status.value for status in AGREED]
        )
        counts = Counter((holder.purpose, holder.status) for holder in holders)
        stopped = {holder.participant_id for holder in holders if holder.stopped}
        people = sorted({holder.participant_id for holder in holders})
        messages = segments = 0
        for participant_id in people:
            outcome = await self.pipeline.run(
                session,
                ForParticipant(participant_id),
                StudyChanged(study),
                SYSTEM,
                BySms(OutboxKind.STUDY_CHANGED),
                now,
            )
            if outcome.turn is None or participant_id in stopped:
                continue
            for _always, body in joined_replies(outcome.turn):
                parts = plan_messages(body, self.deps.max_segments)
                messages += len(parts)
                segments += sum(segment_count(part) for part in parts)
        summary = ChangeSummary(
            study=study.id,
            version=study.version,
            reconsent=changes.reconsent,
            purposes=changes.purposes,
            by_purpose_and_status=dict(counts),
            participants=len(people),
            stopped=len(stopped),
            messages=messages,
            segments=segments,
        )
        log.info(
            "study.changes_applied" if not dry_run else "study.changes_dry_run",
            study=study.id,
            version=study.version,
            reconsent=changes.reconsent.value,
            participants=summary.participants,
            messages=messages,
        )
        return summary
