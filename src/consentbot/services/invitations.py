"""Invite a person to a study: the research API's and ``consentbot invite``'s shared path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.model import Study
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Provenance
from consentbot.domain.timers import TimerKind
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import Conflict, InvalidInput, UnknownStudy
from consentbot.services.pipeline import BySms, ForParticipant, Invited, TurnPipeline
from consentbot.store.contacts import ContactRepository
from consentbot.store.participants import ParticipantRepository
from consentbot.store.phones import PhoneNumberError
from consentbot.store.tables import Participant
from consentbot.store.timers import TimerRepository

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Invitation:
    """The result of inviting someone."""

    study: str
    reference: str
    language: str
    created: bool
    """False when this exact invitation existed already (nothing was sent again)."""
    messages_stopped: bool
    """True when the number has sent STOP: the invitation is recorded but not sent."""
    link_sent: bool = False
    """A personal web link went with the invitation (never to the caller: it is the
    person's, and the party inviting is the one that gains from a yes)."""
    participant_id: int | None = None
    """Ours, for following up what became of the message; never shown to the caller."""


@dataclass(frozen=True, slots=True)
class InvitationRequest:
    """One invitation, checked: a sendable number in E.164, a reference, a language or None."""

    e164: str
    reference: str
    language: str | None


class InvitationService:
    """Create participants and send their first message."""

    def __init__(self, deps: ServiceDeps, pipeline: TurnPipeline) -> None:
        self.deps = deps
        self.pipeline = pipeline

    def study(self, study_id: str) -> Study:
        """The study to invite people to (:class:`UnknownStudy` if there is none)."""
        study = self.deps.studies.get(study_id)
        if study is None:
            raise UnknownStudy(f"there is no study {study_id!r}")
        return study

    def check(
        self, study: Study, *, phone: str, reference: str, language: str | None
    ) -> InvitationRequest:
        """The invitation if every field can be used; else :class:`InvalidInput` naming one."""
        reference = reference.strip()
        if not reference or len(reference) > 100:
            raise InvalidInput("must be 1 to 100 characters", field="reference")
        if language is not None and language not in study.texts:
            offered = ", ".join(study.languages)
            raise InvalidInput(
                f"{language!r} is not offered by this study (it offers {offered})",
                field="language",
            )
        try:
            e164 = self.deps.sending.sendable(phone)
        except PhoneNumberError as error:
            raise InvalidInput(str(error), field="phone") from error
        return InvitationRequest(e164, reference, language)

    async def invite(
        self,
        study_id: str,
        *,
        phone: str,
        reference: str,
        language: str | None,
        provenance: Provenance,
    ) -> Invitation:
        """Invite ``phone`` to ``study_id`` as ``reference``; idempotent for the same pair."""
        study = self.study(study_id)
        request = self.check(study, phone=phone, reference=reference, language=language)
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            result = await self._invite(session, study, request, provenance, now)
        self.deps.on_outbox()
        return result

    async def invite_many(
        self, study: Study, requests: Sequence[InvitationRequest]
    ) -> list[Invitation]:
        """Store several checked people at once, each with their invitation due now: all are
        stored or none is.

        A cohort costs a few batched statements in one transaction, not a turn each, so
        10,000 people are stored in seconds. The scheduler then sends each invitation through
        the turn pipeline (the same turn as :meth:`invite`) and the outbox paces the SMS.
        Raises :class:`Conflict` (and stores nothing) if a row contradicts the database,
        such as when another batch added the same person meanwhile.
        """
        now = self.deps.clock()
        try:
            async with self.deps.db.transaction() as session:
                results = await self._store_many(session, study, requests, now)
        except IntegrityError as error:
            raise Conflict(
                "someone in this batch was added to the study at the same moment by another "
                "request: nothing was stored; send the batch again"
            ) from error
        log.info(
            "cohort.stored",
            study=study.id,
            invited=sum(1 for result in results if result.created),
            already_invited=sum(1 for result in results if not result.created),
        )
        return results

    async def _store_many(
        self,
        session: AsyncSession,
        study: Study,
        requests: Sequence[InvitationRequest],
        now: datetime,
    ) -> list[Invitation]:
        contacts = await ContactRepository(session, self.deps.vault).lock_or_create_many(
            [request.e164 for request in requests], now
        )
        participants = ParticipantRepository(session)
        found = await participants.matching(
            study.id,
            references=[request.reference for request in requests],
            contact_ids=[contact.id for contact in contacts.values() if contact.id is not None],
        )
        by_reference = {p.reference: p for p in found}
        by_contact = {p.contact_id: p for p in found}
        results: dict[str, Invitation] = {}
        new: list[tuple[str, int, str]] = []
        for request in requests:
            contact = contacts[request.e164]
            assert contact.id is not None
            existing = by_reference.get(request.reference)
            same_number = by_contact.get(contact.id)
            self._agrees(request.reference, contact.id, existing, same_number)
            if existing is not None:
                results[request.reference] = Invitation(
                    study.id,
                    request.reference,
                    existing.language,
                    False,
                    contact.stopped,
                    participant_id=existing.id,
                )
            else:
                language = request.language or study.default_language
                new.append((request.reference, contact.id, language))
        created = await participants.create_many(
            study.id, new, content_version=study.version, now=now
        )
        TimerRepository(session).schedule_new(
            [p.id for p in created if p.id is not None], TimerKind.INVITATION, now, now
        )
        stopped = {contact.id for contact in contacts.values() if contact.stopped}
        for participant in created:
            messages_stopped = participant.contact_id in stopped
            results[participant.reference] = Invitation(
                study.id,
                participant.reference,
                participant.language,
                True,
                messages_stopped,
                link_sent=self.deps.public_url is not None and not messages_stopped,
                participant_id=participant.id,
            )
        return [results[request.reference] for request in requests]

    @staticmethod
    def _agrees(
        reference: str,
        contact_id: int,
        existing: Participant | None,
        same_number: Participant | None,
    ) -> None:
        """Refuse a reference already used for another number, or a number already in the
        study under another reference (:class:`Conflict`)."""
        if existing is not None and existing.contact_id != contact_id:
            raise Conflict(
                "this reference is already used for a different phone number",
                field="reference",
            )
        if same_number is not None and same_number.reference != reference:
            raise Conflict(
                "this phone number is already in the study under another reference",
                field="phone",
            )

    async def _invite(
        self,
        session: AsyncSession,
        study: Study,
        request: InvitationRequest,
        provenance: Provenance,
        now: datetime,
    ) -> Invitation:
        deps = self.deps
        reference = request.reference
        contacts = ContactRepository(session, deps.vault)
        participants = ParticipantRepository(session)
        contact = await contacts.find_or_create(request.e164, now)
        assert contact.id is not None
        found = await participants.by_reference_or_contact(study.id, reference, contact.id)
        existing = next((p for p in found if p.reference == reference), None)
        same_number = next((p for p in found if p.contact_id == contact.id), None)
        self._agrees(reference, contact.id, existing, same_number)
        if existing is not None:
            return Invitation(
                study.id,
                reference,
                existing.language,
                False,
                contact.stopped,
                participant_id=existing.id,
            )
        participant = await participants.create(
            study_id=study.id,
            reference=reference,
            contact_id=contact.id,
            language=request.language or study.default_language,
            content_version=study.version,
            now=now,
        )
        assert participant.id is not None
        await self.pipeline.run(
            session,
            ForParticipant(participant.id),
            Invited(),
            provenance,
            BySms(OutboxKind.INVITATION),
            now,
        )
        log.info("participant.invited", study=study.id, participant=participant.id)
        return Invitation(
            study.id,
            reference,
            participant.language,
            True,
            contact.stopped,
            link_sent=deps.public_url is not None and not contact.stopped,
            participant_id=participant.id,
        )
