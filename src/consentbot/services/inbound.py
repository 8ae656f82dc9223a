"""Handle one inbound SMS: route it to a study, run the engine, apply the turn."""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.channels.gateway import InboundSms
from consentbot.content.model import Study
from consentbot.conversation.engine import respond
from consentbot.conversation.normalise import normalise
from consentbot.conversation.outcome import StartMessages, StopMessages
from consentbot.conversation.proactive import respond_to_stranger
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.domain.stopping import StopSource
from consentbot.services.deps import ServiceDeps
from consentbot.services.participation import with_consent
from consentbot.services.turns import apply_turn, queue_sms_replies
from consentbot.store.contacts import ContactRepository
from consentbot.store.inbound import InboundRepository
from consentbot.store.participants import ParticipantRepository, generate_reference
from consentbot.store.phones import PhoneNumberError, to_e164
from consentbot.store.tables import Contact, Participant

log = structlog.get_logger(__name__)


class InboundService:
    """The consent service's entry point for messages people send."""

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

    async def handle(self, message: InboundSms) -> None:
        """Process ``message`` once; a repeated gateway message id changes nothing."""
        deps = self.deps
        try:
            e164 = to_e164(message.sender, deps.default_region)
        except PhoneNumberError:
            log.warning("inbound.unreadable_sender", gateway=message.gateway)
            return
        now = deps.clock()
        async with deps.db.transaction() as session:
            contacts = ContactRepository(session, deps.vault)
            contact = await contacts.find_or_create(e164, now)
            assert contact.id is not None
            if not await InboundRepository(session).first_time(
                message.gateway, message.gateway_message_id, contact.id, now
            ):
                log.info("inbound.duplicate", gateway=message.gateway, contact=contact.id)
                return
            routed = await self._route(session, contact, message.text, now)
            provenance = Provenance(Channel.sms(message.gateway), "participant", Auth.SMS)
            if routed is None:
                await self._stranger(session, contacts, contact, message.text, now)
            else:
                study, participant = routed
                who = await with_consent(session, study, participant, contact)
                turn = respond(*who.engine(deps, now), message.text)
                await apply_turn(session, contacts, who, turn, provenance=provenance, now=now)
                queue_sms_replies(
                    session,
                    turn,
                    contact_id=who.contact_id,
                    participant_id=who.participant_id,
                    kind=OutboxKind.REPLY,
                    now=now,
                    max_segments=deps.max_segments,
                )
                log.info(
                    "inbound.handled",
                    gateway=message.gateway,
                    study=study.id,
                    participant=participant.id,
                    changes=len(turn.changes),
                    replies=len(turn.replies),
                )
        deps.on_outbox()

    async def _route(
        self, session: AsyncSession, contact: Contact, text: str, now: datetime
    ) -> tuple[Study, Participant] | None:
        """The study a message is about: its keyword, else the number's current study."""
        participants = ParticipantRepository(session)
        deps = self.deps
        keyword = deps.lexicon.study_keywords.get(normalise(text))
        study = deps.studies.by_keyword(keyword) if keyword else None
        assert contact.id is not None
        if study is not None:
            participant = await participants.by_contact(study.id, contact.id)
            if participant is None:
                participant = await participants.create(
                    study_id=study.id,
                    reference=generate_reference(),
                    contact_id=contact.id,
                    language=study.default_language,
                    content_version=study.version,
                    now=now,
                    joined_by="keyword",
                )
                log.info(
                    "participant.joined_by_keyword", study=study.id, participant=participant.id
                )
        else:
            known = await participants.for_contact(contact.id)
            chosen = [p for p in known if p.id == contact.prompted_participant_id]
            if not chosen and len(known) == 1:
                chosen = known
            if not chosen:
                return None
            participant = chosen[0]
            study = deps.studies.get(participant.study_id)
            if study is None:
                return None
        contact.prompted_participant_id = participant.id
        session.add(contact)
        return study, participant

    async def _stranger(
        self,
        session: AsyncSession,
        contacts: ContactRepository,
        contact: Contact,
        text: str,
        now: datetime,
    ) -> None:
        deps = self.deps
        turn = respond_to_stranger(deps.lexicon, "en", text)
        for effect in turn.effects:
            if isinstance(effect, StopMessages):
                contacts.stop(contact, StopSource.SMS, now)
            elif isinstance(effect, StartMessages):
                contacts.start(contact)
        assert contact.id is not None
        queue_sms_replies(
            session,
            turn,
            contact_id=contact.id,
            participant_id=None,
            kind=OutboxKind.REPLY,
            now=now,
            max_segments=deps.max_segments,
        )
        log.info("inbound.stranger", contact=contact.id)
