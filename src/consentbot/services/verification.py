"""Checking a web visitor's mobile number with a texted one-time code.

Texting a number someone typed into a form is the one place a stranger can make the
service send an SMS, so it is fenced in four ways: only real mobiles in the service's
regions (:class:`SendingPolicy`), and limits per number, per session, per client address
and for the whole service per hour. The answer does not tell whether a number is known,
stopped or new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.conversation.outcome import Reply, Turn
from consentbot.conversation.state import ConversationState
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import CodeRejected, InvalidInput, RateLimited
from consentbot.services.pipeline import (
    ForParticipant,
    LanguageChosen,
    Said,
    ToPage,
    TurnPipeline,
)
from consentbot.services.turns import queue_sms_replies
from consentbot.services.web_sessions import WebSessionService
from consentbot.store.contacts import ContactRepository
from consentbot.store.participants import ParticipantRepository, generate_reference
from consentbot.store.phones import PhoneNumberError
from consentbot.store.tables import Participant, WebSession
from consentbot.store.verifications import VerificationRepository, new_code
from consentbot.store.web_sessions import WebSessionRepository

log = structlog.get_logger(__name__)

HOUR = timedelta(hours=1)


class Limit(StrEnum):
    """Which limit refused a code: the page says what to do about each."""

    SESSION = "session"
    ADDRESS = "address"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class CodeLimits:
    """How many codes may be texted."""

    per_session_per_hour: int = 3
    per_address_per_hour: int = 10
    per_number_per_day: int = 5
    service_per_hour: int = 200


class CodeLimitReached(RateLimited):
    """Too many codes; ``limit`` says whose."""

    def __init__(self, limit: Limit) -> None:
        super().__init__(f"too many codes ({limit.value} limit); try again later")
        self.limit = limit


class VerificationService:
    """Text codes and check them; a checked number links the session to its participant."""

    def __init__(
        self,
        deps: ServiceDeps,
        pipeline: TurnPipeline,
        sessions: WebSessionService,
        limits: CodeLimits,
    ) -> None:
        self.deps = deps
        self.pipeline = pipeline
        self.sessions = sessions
        self.limits = limits

    async def send_code(
        self, session: AsyncSession, web: WebSession, phone: str, client: str, now: datetime
    ) -> None:
        """Text a code to ``phone`` for this session, within every limit.

        Raises :class:`InvalidInput` for a number we may not text and
        :class:`CodeLimitReached` past a limit on the session, the address or the service.
        A stopped number, or one that has had its day's codes, gets no SMS but the same
        answer as any other: the form must not tell a stranger anything about a number.
        """
        deps = self.deps
        try:
            e164 = deps.sending.sendable(phone)
        except PhoneNumberError as error:
            raise InvalidInput(str(error), field="phone") from error
        assert web.id is not None
        verifications = VerificationRepository(session, deps.vault)
        client_hash = deps.vault.lookup_hash(f"client:{client}")
        since = now - HOUR
        limits = self.limits
        if (
            await verifications.sent_since(since, web_session_id=web.id)
            >= limits.per_session_per_hour
        ):
            raise CodeLimitReached(Limit.SESSION)
        if (
            await verifications.sent_since(since, client_hash=client_hash)
            >= limits.per_address_per_hour
        ):
            raise CodeLimitReached(Limit.ADDRESS)
        if await verifications.sent_since(since) >= limits.service_per_hour:
            # Numbers stay out of the log; the alert is what matters.
            log.warning("verification.service_budget_reached", budget=limits.service_per_hour)
            raise CodeLimitReached(Limit.SERVICE)
        number_busy = (
            await verifications.sent_since(
                now - timedelta(days=1), phone_hashes=deps.vault.lookup_hashes(e164)
            )
            >= limits.per_number_per_day
        )
        contacts = ContactRepository(session, deps.vault)
        contact = await contacts.find_or_create(e164, now)
        assert contact.id is not None
        code = new_code()
        # The contact's own hash, not a fresh one: before rotation it may be under an older key.
        await verifications.issue(
            web.id, contact.phone_hash, contact.phone_encrypted, client_hash, code, now
        )
        if contact.stopped or number_busy:
            log.info("web.code_withheld", session=web.id)
            return
        study = self.sessions.study(web.study_id)
        language = study.language_or_default(web.language)
        say = deps.lexicon.say(language, study.timezone)
        text = say.verification_code(code, study.text(language).title)
        await queue_sms_replies(
            session,
            Turn(ConversationState(), (Reply(text),)),
            contact_id=contact.id,
            participant_id=None,
            kind=OutboxKind.VERIFICATION,
            now=now,
            max_segments=deps.max_segments,
            secret=code,
            vault=deps.vault,
        )
        log.info("web.code_sent", session=web.id)

    async def check_code(
        self, session: AsyncSession, web: WebSession, code: str, now: datetime
    ) -> None:
        """Link the session to the number's participant, then replay any waiting answer.

        Raises :class:`CodeRejected` after counting the attempt: the caller must commit
        (not roll back) so guesses stay counted.
        """
        assert web.id is not None
        verifications = VerificationRepository(session, self.deps.vault)
        pending = await verifications.latest(web.id, now)
        if pending is None or not verifications.check(pending, code, now):
            raise CodeRejected("that code is not right, or there is no code waiting")
        contact = await ContactRepository(session, self.deps.vault).find_by_hash(
            pending.phone_hash, lock=True
        )
        assert contact is not None
        assert contact.id is not None
        participant = await self._participant_for(session, web, contact.id, now)
        assert participant.id is not None
        web.participant_id = participant.id
        web.auth = Auth.SMS_CODE
        session.add(web)
        await self._after_linking(session, web, participant, now)
        log.info("web.verified", session=web.id, participant=participant.id)

    async def _after_linking(
        self, session: AsyncSession, web: WebSession, participant: Participant, now: datetime
    ) -> None:
        """Keep the person's language unless they chose one here; then the waiting answer."""
        assert participant.id is not None
        study = self.sessions.study(web.study_id)
        provenance = Provenance(Channel.WEB, "participant", Auth.SMS_CODE)
        sessions = WebSessionRepository(session)
        chosen = study.language_or_default(web.language)
        if web.language_chosen and chosen != participant.language:
            await self.pipeline.run(
                session,
                ForParticipant(participant.id),
                LanguageChosen(chosen),
                provenance,
                ToPage(web),
                now,
            )
        else:
            web.language = participant.language
        say = self.deps.lexicon.say(study.language_or_default(web.language), study.timezone)
        sessions.say(web, "out", say.number_verified(), now)
        waiting, seen = web.waiting_text, web.waiting_question
        web.waiting_text = web.waiting_question = None
        if waiting:
            await self.pipeline.run(
                session,
                ForParticipant(participant.id),
                Said(waiting, seen_question=seen if seen is not None else ""),
                provenance,
                ToPage(web),
                now,
            )

    async def _participant_for(
        self, session: AsyncSession, web: WebSession, contact_id: int, now: datetime
    ) -> Participant:
        """The number's participant in this study; a new one carries the page's place and language."""
        participants = ParticipantRepository(session)
        study = self.sessions.study(web.study_id)
        existing = await participants.by_contact(study.id, contact_id)
        if existing is not None:
            return existing
        participant = await participants.create(
            study_id=study.id,
            reference=generate_reference(),
            contact_id=contact_id,
            language=study.language_or_default(web.language),
            content_version=study.version,
            now=now,
            joined_by="web",
        )
        participant.conversation = web.conversation
        await participants.save(participant, now)
        return participant
