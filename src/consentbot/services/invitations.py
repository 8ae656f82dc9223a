"""Invite a person to a study: the research API's and ``consentbot invite``'s shared path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.model import Study
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Provenance
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import Conflict, InvalidInput, UnknownStudy
from consentbot.services.pipeline import BySms, ForParticipant, Invited, TurnPipeline
from consentbot.store.contacts import ContactRepository
from consentbot.store.participants import ParticipantRepository
from consentbot.store.phones import PhoneNumberError

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
        self, study: Study, requests: Sequence[InvitationRequest], provenance: Provenance
    ) -> list[Invitation]:
        """Invite several checked people in one transaction: all are stored or none is.

        Each invitation is its own pipeline turn, exactly as :meth:`invite`; sharing the
        commit saves one disk flush per person, which is most of an invitation's cost.
        Numbers are locked in sorted order, so two batches at once cannot deadlock.
        Raises :class:`Conflict` (and stores nothing) if one contradicts the database.
        """
        now = self.deps.clock()
        ordered = sorted(requests, key=lambda request: request.e164)
        async with self.deps.db.transaction() as session:
            results = {
                request.reference: await self._invite(session, study, request, provenance, now)
                for request in ordered
            }
        self.deps.on_outbox()
        return [results[request.reference] for request in requests]

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
        if existing is not None and existing.contact_id != contact.id:
            raise Conflict(
                "this reference is already used for a different phone number",
                field="reference",
            )
        if same_number is not None and same_number.reference != reference:
            raise Conflict(
                "this phone number is already in the study under another reference",
                field="phone",
            )
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
