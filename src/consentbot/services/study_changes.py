"""Publishing a changed version: ask again exactly the people a material change concerns.

With ``reconsent: required`` every ``active`` or ``pending`` consent for a changed purpose
becomes ``reconsent_required`` (a ledger event with the new version, ``actor: system`` and
the reason), and the person is sent the explanation and the question again through the
turn pipeline; with ``notify`` they are only told. Nobody whose consent for those
purposes is none, declined, withdrawn or expired is contacted. The outbox sends the
messages later, keeping STOP, quiet hours and the send rate.

The version is committed first; the change then reaches people in groups, one
transaction each (:meth:`StudyChangeService.apply`), so other turns never wait for all of
them. Each participant reached gets a :class:`~consentbot.store.tables.StudyChangeApplied`
row in the same transaction as their turn: a run that stopped half-way is finished by
the next one (publishing, ``serve`` starting, or the service noticing the version), and
nobody is reached twice. A dry run (:meth:`StudyChangeService.preview`) only reads: it
decides each turn with the pure conversation functions and applies none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.model import Study, StudyChanges
from consentbot.conversation.outcome import Turn
from consentbot.conversation.study_changes import AGREED, study_changed
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.domain.sms_segments import planned
from consentbot.domain.stopping import can_lift_stop
from consentbot.services.change_summary import ChangeSummary as ChangeSummary
from consentbot.services.deps import ServiceDeps
from consentbot.services.participation import Participation
from consentbot.services.pipeline import BySms, ForParticipant, StudyChanged, TurnPipeline
from consentbot.services.turns import joined_replies
from consentbot.store.contacts import ContactRepository
from consentbot.store.participants import ConsentHolder, ParticipantRepository
from consentbot.store.published import PublishedVersionRepository
from consentbot.store.study_changes import StudyChangeRepository

log = structlog.get_logger(__name__)

SYSTEM = Provenance(Channel.CLI, "system", Auth.SYSTEM)
"""Who moves a consent to reconsent_required: not the person, the service on publishing."""

GROUP_SIZE = 100
"""People reached per transaction: short enough that a waiting SMS turn is not timed out
(SQLite has one writer), long enough that thousands take a few dozen commits."""


class StudyChangeService:
    """Applies a published version's ``changes`` to the people they concern."""

    def __init__(
        self, deps: ServiceDeps, pipeline: TurnPipeline, *, group_size: int = GROUP_SIZE
    ) -> None:
        assert group_size > 0
        self.deps = deps
        self.pipeline = pipeline
        self.group_size = group_size

    def _repository(
        self, session: AsyncSession, study: Study, changes: StudyChanges
    ) -> StudyChangeRepository:
        return StudyChangeRepository(session, study.id, study.version, changes.purposes, AGREED)

    async def preview(
        self, session: AsyncSession, previous: Study | None, new: Study, now: datetime
    ) -> ChangeSummary | None:
        """What publishing ``new`` after ``previous`` would do, reading only (a dry run).

        Each person's turn is decided as the pipeline would decide it, and counted, but
        nothing is written or locked. None when there would be nothing to do: a first
        version, or a version that declares no change.
        """
        changes = new.changes
        if changes is None or previous is None:
            return None
        changed = self._repository(session, new, changes)
        summary = ChangeSummary(new.id, new.version, changes.reconsent, changes.purposes)
        after = 0
        while ids := await changed.next_group(after, self.group_size):
            holders = await changed.holders(ids)
            consent = await ParticipantRepository(session).consent_of(ids)
            for participant, contact in await changed.people(ids):
                assert participant.id is not None
                who = Participation(new, participant, contact, consent[participant.id])
                can_start = can_lift_stop(contact.stopped_by, from_phone=SYSTEM.channel.is_sms)
                ctx = who.context(self.deps.lexicon, now, can_start=can_start)
                turn = study_changed(ctx, who.state, changes)
                mine = [h for h in holders if h.participant_id == participant.id]
                summary += self._reached(new, changes, mine, turn)
            after = ids[-1]
        log.info(
            "study.changes_dry_run",
            study=new.id,
            version=new.version,
            reconsent=changes.reconsent.value,
            participants=summary.participants,
            messages=summary.messages,
        )
        return summary

    async def apply(self, new: Study, now: datetime) -> ChangeSummary | None:
        """Reach everyone ``new.changes`` concerns who was not reached yet, a group at a time.

        ``new`` must be published. Safe to call again at any time: only people still to
        reach are reached. The summary counts the people this call reached. None when the
        version declares no change or is the study's first.
        """
        changes = new.changes
        if changes is None:
            return None
        async with self.deps.db.read() as session:
            versions = PublishedVersionRepository(session)
            if await versions.earlier(new.id, new.version) is None:
                return None
        summary = ChangeSummary(new.id, new.version, changes.reconsent, changes.purposes)
        after, passes = 0, 0
        while True:
            async with self.deps.db.transaction() as session:
                changed = self._repository(session, new, changes)
                ids = await changed.next_group(after, self.group_size)
                if ids:
                    summary += await self._apply_group(session, changed, new, changes, ids, now)
            if ids:
                after = ids[-1]
                self.deps.on_outbox()
            elif after == 0 or passes > 0:
                break
            else:
                # Once more from the start: someone already passed may have said yes to
                # the old text (still served elsewhere) while the groups ran.
                after, passes = 0, passes + 1
        if summary.participants:
            log.info(
                "study.changes_applied",
                study=new.id,
                version=new.version,
                reconsent=changes.reconsent.value,
                participants=summary.participants,
                messages=summary.messages,
            )
        return summary

    async def resume(self, study: Study) -> ChangeSummary | None:
        """Finish applying ``study``'s change (a published version) where a run stopped."""
        return await self.apply(study, self.deps.clock())

    async def _apply_group(
        self,
        session: AsyncSession,
        changed: StudyChangeRepository,
        study: Study,
        changes: StudyChanges,
        ids: Sequence[int],
        now: datetime,
    ) -> ChangeSummary:
        """One transaction's people: each through the turn pipeline, each claimed once."""
        summary = ChangeSummary(study.id, study.version, changes.reconsent, changes.purposes)
        participants = ParticipantRepository(session)
        contacts = ContactRepository(session, self.deps.vault)
        for participant_id in ids:
            contact_id = await participants.contact_id_of(participant_id)
            if contact_id is None:
                continue
            # Read again under the number's lock, which the pipeline takes too: an answer
            # given meanwhile (under this version) or another process's run counts.
            await contacts.get(contact_id, lock=True)
            holders = await changed.holders([participant_id])
            if not holders or not await changed.claim(participant_id, now):
                continue
            outcome = await self.pipeline.run(
                session,
                ForParticipant(participant_id),
                StudyChanged(study),
                SYSTEM,
                BySms(OutboxKind.STUDY_CHANGED),
                now,
            )
            summary += self._reached(study, changes, holders, outcome.turn)
        return summary

    def _reached(
        self,
        study: Study,
        changes: StudyChanges,
        holders: Sequence[ConsentHolder],
        turn: Turn | None,
    ) -> ChangeSummary:
        """One person's share of the summary: their consents and what telling them costs."""
        stopped = any(holder.stopped for holder in holders)
        messages = segments = 0
        if turn is not None and not stopped:
            for _always, body in joined_replies(turn):
                parts = planned(body, self.deps.max_segments)
                messages += len(parts)
                segments += sum(count for _part, _encoding, count in parts)
        return ChangeSummary(
            study=study.id,
            version=study.version,
            reconsent=changes.reconsent,
            purposes=changes.purposes,
            by_purpose_and_status=dict(Counter((h.purpose, h.status) for h in holders)),
            participants=1 if holders else 0,
            stopped=1 if holders and stopped else 0,
            messages=messages,
            segments=segments,
        )
