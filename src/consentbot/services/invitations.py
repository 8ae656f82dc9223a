"""Invite a person to a study: the research API's and ``consentbot invite``'s shared path."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from consentbot.conversation.engine import invite
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Provenance
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import Conflict, InvalidInput, UnknownStudy
from consentbot.services.participation import Participation
from consentbot.services.turns import apply_turn, queue_sms_replies
from consentbot.store.contacts import ContactRepository
from consentbot.store.links import LinkRepository
from consentbot.store.participants import ParticipantRepository
from consentbot.store.phones import PhoneNumberError, to_e164

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
    link: str | None = None
    """The personal web link (only when created now, and only with a public URL set)."""


class InvitationService:
    """Create participants and send their first message."""

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

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
        deps = self.deps
        study = deps.studies.get(study_id)
        if study is None:
            raise UnknownStudy(f"there is no study {study_id!r}")
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
            e164 = to_e164(phone, deps.default_region)
        except PhoneNumberError as error:
            raise InvalidInput(str(error), field="phone") from error
        now = deps.clock()
        async with deps.db.transaction() as session:
            contacts = ContactRepository(session, deps.vault)
            participants = ParticipantRepository(session)
            contact = await contacts.find_or_create(e164, now)
            assert contact.id is not None
            existing = await participants.by_reference(study.id, reference)
            same_number = await participants.by_contact(study.id, contact.id)
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
                return Invitation(study.id, reference, existing.language, False, contact.stopped)
            participant = await participants.create(
                study_id=study.id,
                reference=reference,
                contact_id=contact.id,
                language=language or study.default_language,
                content_version=study.version,
                now=now,
            )
            contact.prompted_participant_id = participant.id
            session.add(contact)
            who = Participation(study, participant, contact, {})
            ctx, state = who.engine(deps, now)
            link = None
            if deps.public_url:
                token = await LinkRepository(session).create(participant.id or 0, now)
                link = f"{deps.public_url}/i/{token}"
            turn = invite(ctx, state, link)
            await apply_turn(session, contacts, who, turn, provenance=provenance, now=now)
            queue_sms_replies(
                session,
                turn,
                contact_id=contact.id,
                participant_id=participant.id,
                kind=OutboxKind.INVITATION,
                now=now,
                max_segments=deps.max_segments,
                secret=link,
                vault=deps.vault,
            )
            log.info("participant.invited", study=study.id, participant=participant.id)
            result = Invitation(
                study.id, reference, participant.language, True, contact.stopped, link
            )
        deps.on_outbox()
        return result
