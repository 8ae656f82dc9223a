"""Send news or results to everyone whose ``updates`` consent is active (``consentbot announce``).

The file is checked first (:mod:`~consentbot.services.announcement_file`); nothing is
stored while it has a problem. Then people are queued in groups: each group is one
transaction that locks the group's numbers, checks again that ``updates`` is still
active, and writes each person's outbox message together with the record that they were
queued. A run stopped part way loses nothing and a re-run of the same announcement skips
everyone recorded. The outbox does the rest as for every message we start: STOP and
erasure at send time, quiet hours in the study's time zone, and CONSENTBOT_SEND_RATE.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from consentbot.content.model import Study
from consentbot.content.sms_cost import SmsCost
from consentbot.conversation.announcement_messages import announcement
from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.services.announcement_file import AnnouncementFile, FileProblem, check_for_study
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import ServiceError, UnknownStudy
from consentbot.store.announcements import UPDATES, AnnouncementRepository
from consentbot.store.outbox import OutboxRepository

GROUP = 100
"""People queued per transaction at most."""


class NoUpdatesPurpose(ServiceError):
    """The study asks nobody about ``updates``: nobody has agreed to be sent news."""


@dataclass(frozen=True, slots=True)
class AnnouncementPlan:
    """What sending a checked announcement will do. Reads only: nothing is stored."""

    study: Study
    announcement: AnnouncementFile
    bodies: dict[str, str]
    """Each language's message as the person gets it."""
    costs: dict[str, SmsCost]
    problems: tuple[FileProblem, ...]
    """While there is one, nothing may be queued."""
    announcement_id: int | None
    """Set when this announcement was started before (a re-run)."""
    already_queued: int
    to_queue: Counter[str]
    """People still to queue, by the language of the text they will get."""
    stopped: Counter[str]
    """Of those, people whose number has sent STOP now: the outbox will not send them it."""

    def text_language(self, language: str) -> str:
        """The text a person who reads ``language`` gets: theirs, or the default language's
        when the study no longer offers theirs."""
        return language if language in self.bodies else self.study.default_language


@dataclass(frozen=True, slots=True)
class QueuedGroup:
    """One group's work."""

    looked_at: int
    """People taken from those still to queue."""
    queued: int
    """Of those, people queued: the rest withdrew ``updates`` (or were erased) meanwhile."""


class AnnouncementService:
    """Plan and queue announcements."""

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

    async def plan(self, study_id: str, file: AnnouncementFile) -> AnnouncementPlan:
        """Check ``file`` against the study and count who would get it.

        Raises :class:`UnknownStudy` and :class:`NoUpdatesPurpose`.
        """
        study = self.deps.studies.get(study_id)
        if study is None:
            raise UnknownStudy(f"no study {study_id!r}", field="study")
        if UPDATES not in {purpose.id for purpose in study.purposes}:
            raise NoUpdatesPurpose(
                f"study {study_id} has no {UPDATES!r} purpose: nobody has agreed to be sent "
                "news, so there is nobody to send it to",
                field="study",
            )

        def render(language: str, text: str) -> str:
            say = self.deps.lexicon.say(language, study.timezone)
            return announcement(say, say.shown(study.text(language)), text)

        costs, problems = check_for_study(file, study, render, self.deps.max_segments)
        bodies = {language: render(language, text) for language, text in file.texts.items()}
        bodies = {language: bodies[language] for language in costs}
        async with self.deps.db.read() as session:
            repository = AnnouncementRepository(session)
            earlier = await repository.find(study.id, file.id)
            if earlier is not None and earlier.texts_digest != file.digest:
                when = earlier.created_at.strftime("%Y-%m-%d %H:%M UTC")
                problems.append(
                    FileProblem(
                        "texts",
                        f"differ from those {file.id!r} was started with on {when}: "
                        "nobody may get two versions of one announcement. Give changed "
                        "texts a new id",
                    )
                )
            earlier_id = earlier.id if earlier is not None else None
            waiting = await repository.count_still_to_queue(study.id, earlier_id)
            already = await repository.queued_count(earlier_id) if earlier_id else 0
        plan = AnnouncementPlan(
            study, file, bodies, costs, tuple(problems), earlier_id, already, Counter(), Counter()
        )
        for stored_language, stopped, count in waiting:
            language = plan.text_language(stored_language)
            plan.to_queue[language] += count
            if stopped:
                plan.stopped[language] += count
        return plan

    async def start(self, plan: AnnouncementPlan) -> int:
        """Record the announcement (or find it again, on a re-run); its id."""
        if plan.problems:
            raise ValueError("an announcement with problems must not be started")
        if plan.announcement_id is not None:
            return plan.announcement_id
        async with self.deps.db.transaction() as session:
            repository = AnnouncementRepository(session)
            created = await repository.create(
                plan.study.id, plan.announcement.id, plan.announcement.digest, self.deps.clock()
            )
        assert created.id is not None
        return created.id

    async def queue_group(
        self, plan: AnnouncementPlan, announcement_id: int, limit: int
    ) -> QueuedGroup:
        """Queue the next ``limit`` people at most, in one transaction (``looked_at`` 0:
        everyone has been)."""
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            repository = AnnouncementRepository(session)
            candidates = await repository.still_to_queue(plan.study.id, announcement_id, limit)
            if not candidates:
                return QueuedGroup(0, 0)
            recipients = await repository.lock_and_recheck(
                plan.study.id, announcement_id, candidates
            )
            outbox = OutboxRepository(session)
            for recipient in recipients:
                language = plan.text_language(recipient.language)
                message = outbox.plan(
                    contact_id=recipient.contact_id,
                    participant_id=recipient.participant_id,
                    kind=OutboxKind.ANNOUNCEMENT,
                    body=plan.bodies[language],
                    always=False,
                    send_after=now,
                    now=now,
                    max_segments=self.deps.max_segments,
                )
                (message_id,) = await outbox.add(message)
                repository.record(
                    announcement_id, recipient.participant_id, message_id, language, now
                )
        self.deps.on_outbox()
        return QueuedGroup(len(candidates), len(recipients))

    async def outcomes(self, announcement_id: int) -> Counter[OutboxStatus]:
        """What became of each message of the announcement so far."""
        async with self.deps.db.read() as session:
            return await AnnouncementRepository(session).outcomes(announcement_id)
