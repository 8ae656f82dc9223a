"""The web channel: the same conversation, rules and ledger as SMS, shown in a browser.

A visitor may read a study anonymously. Before an answer can count they verify a
mobile number with a one-time code, which links the browser to the participant for
that number, so they can later check, change or withdraw by SMS too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.model import Study
from consentbot.conversation.engine import Context, respond
from consentbot.conversation.intents import parse
from consentbot.conversation.outcome import Reply, SetLanguage, Turn
from consentbot.conversation.state import ConversationState
from consentbot.conversation.vocabulary import Command
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import (
    CodeRejected,
    InvalidInput,
    NumberStopped,
    RateLimited,
    SessionExpired,
    UnknownStudy,
)
from consentbot.services.participation import load_participation
from consentbot.services.turns import apply_turn, joined_replies, queue_sms_replies
from consentbot.store.contacts import ContactRepository
from consentbot.store.links import LinkRepository
from consentbot.store.participants import ParticipantRepository, generate_reference
from consentbot.store.phones import PhoneNumberError, to_e164
from consentbot.store.tables import Participant, WebMessage, WebSession
from consentbot.store.verifications import VerificationRepository, new_code
from consentbot.store.web_sessions import WebSessionRepository

log = structlog.get_logger(__name__)


IDENTITY_COMMANDS = frozenset(
    {
        Command.YES,
        Command.NO,
        Command.CONFIRM,
        Command.CHOICES,
        Command.CHANGE,
        Command.WITHDRAW,
        Command.LATER,
        Command.STOP,
        Command.START,
    }
)
"""What an anonymous visitor cannot do before their number is checked: everything
that records, shows or schedules something for a person rather than for a reader."""

CODES_PER_SESSION_PER_HOUR = 3
CODES_PER_NUMBER_PER_DAY = 5


@dataclass(frozen=True)
class WebPage:
    """Everything a page shows for one session."""

    session: WebSession
    study: Study
    language: str
    transcript: list[WebMessage]
    linked: bool
    state: ConversationState
    awaiting_code: bool
    consent_statuses: dict[str, str]


class WebChatService:
    """Sessions, messages, verification and personal links for the web channel."""

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

    def _study(self, study_id: str) -> Study:
        study = self.deps.studies.get(study_id)
        if study is None:
            raise UnknownStudy(f"there is no study {study_id!r}")
        return study

    async def open(
        self, study_id: str, cookie: str | None, preferred: list[str]
    ) -> tuple[WebSession, str | None]:
        """The session for ``cookie`` in this study, or a new anonymous one.

        Returns the session and, when one was created, its new cookie value.
        ``preferred`` are the browser's languages in order (Accept-Language).
        """
        study = self._study(study_id)
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            sessions = WebSessionRepository(session)
            if cookie:
                found = await sessions.find(cookie, now)
                if found is not None and found.study_id == study.id:
                    sessions.touch(found, now)
                    return found, None
            language = next(
                (code for code in preferred if code in study.texts), study.default_language
            )
            created, token = await sessions.create(study.id, language, now)
        log.info("web.session_started", study=study.id, session=created.id)
        return created, token

    async def open_link(self, link_token: str) -> tuple[WebSession, str]:
        """A personal link: a new session already linked to its participant."""
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            participant_id = await LinkRepository(session).participant_for(link_token, now)
            if participant_id is None:
                raise SessionExpired("this link is not valid or has expired")
            participant = await ParticipantRepository(session).get(participant_id)
            assert participant is not None
            web, token = await WebSessionRepository(session).create(
                participant.study_id, participant.language, now, participant_id=participant.id
            )
            web.auth = Auth.LINK
        log.info("web.link_opened", study=web.study_id, session=web.id, participant=participant_id)
        return web, token

    async def csrf_token(self, cookie: str) -> str:
        """The session's CSRF token (forms must send it back)."""
        now = self.deps.clock()
        async with self.deps.db.read() as session:
            web = await self._session(session, cookie, now, lock=False)
            return web.csrf_token

    async def page(self, cookie: str) -> WebPage:
        """What to show for the session."""
        now = self.deps.clock()
        async with self.deps.db.read() as session:
            web = await self._session(session, cookie, now, lock=False)
            assert web.id is not None
            study = self._study(web.study_id)
            transcript = list(await WebSessionRepository(session).transcript(web.id))
            awaiting = (
                await VerificationRepository(session, self.deps.vault).latest(
                    web.id, now, lock=False
                )
                is not None
            )
            state, statuses = ConversationState.from_json(web.conversation), {}
            language = study.language_or_default(web.language)
            if web.participant_id is not None:
                participant = await ParticipantRepository(session).get(web.participant_id)
                assert participant is not None
                state = ConversationState.from_json(participant.conversation)
                language = study.language_or_default(participant.language)
                states = await ParticipantRepository(session).consent(web.participant_id)
                statuses = {s.purpose_id: s.status for s in states}
        return WebPage(
            web,
            study,
            language,
            transcript,
            web.participant_id is not None,
            state,
            awaiting,
            statuses,
        )

    @staticmethod
    async def _session(
        session: AsyncSession, cookie: str, now: datetime, *, lock: bool = True
    ) -> WebSession:
        """The unexpired session for ``cookie`` (locked for writing unless ``lock`` is False)."""
        web = await WebSessionRepository(session).find(cookie, now, lock=lock)
        if web is None or web.id is None:
            raise SessionExpired("your session has ended; please open the page again")
        return web

    async def say(self, cookie: str, text: str) -> None:
        """Handle what the person typed or clicked."""
        text = text.strip()[:500]
        if not text:
            return
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            web = await self._session(session, cookie, now)
            sessions = WebSessionRepository(session)
            sessions.say(web, "in", text, now)
            if web.participant_id is None:
                await self._anonymous(session, web, text, now)
            else:
                await self._linked(session, web, text, now)
            sessions.touch(web, now)

    async def _anonymous(
        self, session: AsyncSession, web: WebSession, text: str, now: datetime
    ) -> None:
        deps = self.deps
        study = self._study(web.study_id)
        language = study.language_or_default(web.language)
        intent = parse(
            text,
            deps.lexicon.vocabulary(language),
            deps.lexicon.study_keywords,
            deps.lexicon.language_names(study),
        )
        sessions = WebSessionRepository(session)
        if intent.command in IDENTITY_COMMANDS:
            web.waiting_text = text
            say = deps.lexicon.say(language, study.timezone)
            sessions.say(web, "out", say.verify_first(), now)
            return
        ctx = Context(study, language, deps.lexicon, {}, now, stopped=False)
        turn = respond(ctx, ConversationState.from_json(web.conversation), text)
        assert not turn.changes, "an anonymous turn must never change consent"
        for effect in turn.effects:
            if isinstance(effect, SetLanguage):
                web.language = effect.language
        web.conversation = turn.state.to_json()
        self._show(sessions, web, turn, now)

    async def _linked(
        self, session: AsyncSession, web: WebSession, text: str, now: datetime
    ) -> None:
        deps = self.deps
        who = await load_participation(session, deps, web.participant_id or 0)
        if who is None:
            raise SessionExpired("this conversation is no longer available")
        turn = respond(*who.engine(deps, now), text)
        provenance = Provenance(Channel.WEB, "participant", web.auth or Auth.SMS_CODE)
        await apply_turn(
            session,
            ContactRepository(session, deps.vault),
            who,
            turn,
            provenance=provenance,
            now=now,
        )
        web.language = who.participant.language
        self._show(WebSessionRepository(session), web, turn, now)
        log.info(
            "web.handled",
            study=who.study.id,
            participant=who.participant_id,
            changes=len(turn.changes),
        )

    @staticmethod
    def _show(sessions: WebSessionRepository, web: WebSession, turn: Turn, now: datetime) -> None:
        for _always, body in joined_replies(turn):
            sessions.say(web, "out", body, now)

    async def set_language(self, cookie: str, language: str) -> None:
        """The language switcher: for this page and, once linked, for SMS too."""
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            web = await self._session(session, cookie, now)
            study = self._study(web.study_id)
            if language not in study.texts:
                raise InvalidInput(f"{language!r} is not offered by this study", field="language")
            web.language = language
            session.add(web)
            if web.participant_id is not None:
                participant = await ParticipantRepository(session).get(web.participant_id)
                assert participant is not None
                participant.language = language
                await ParticipantRepository(session).save(participant, now)

    async def send_code(self, cookie: str, phone: str) -> None:
        """Text a one-time code to ``phone`` for this session (rate limited)."""
        deps = self.deps
        try:
            e164 = to_e164(phone, deps.default_region)
        except PhoneNumberError as error:
            raise InvalidInput(str(error), field="phone") from error
        now = deps.clock()
        async with deps.db.transaction() as session:
            web = await self._session(session, cookie, now)
            assert web.id is not None
            verifications = VerificationRepository(session, deps.vault)
            lookups = deps.vault.lookup_hashes(e164)
            if (
                await verifications.sent_since(now - timedelta(hours=1), web_session_id=web.id)
                >= CODES_PER_SESSION_PER_HOUR
                or await verifications.sent_since(now - timedelta(days=1), phone_hashes=lookups)
                >= CODES_PER_NUMBER_PER_DAY
            ):
                raise RateLimited("too many codes have been sent; please wait and try again")
            contacts = ContactRepository(session, deps.vault)
            contact = await contacts.find_or_create(e164, now)
            assert contact.id is not None
            if contact.stopped:
                raise NumberStopped("this number has asked for no messages")
            code = new_code()
            await verifications.issue(
                web.id, contact.phone_hash, contact.phone_encrypted, "", code, now
            )
            study = self._study(web.study_id)
            language = study.language_or_default(web.language)
            say = deps.lexicon.say(language, study.timezone)
            queue_sms_replies(
                session,
                Turn(ConversationState(), _replies(say.verification_code(code))),
                contact_id=contact.id,
                participant_id=None,
                kind=OutboxKind.VERIFICATION,
                now=now,
                max_segments=deps.max_segments,
                secret=code,
                vault=deps.vault,
            )
        log.info("web.code_sent", session=web.id)
        deps.on_outbox()

    async def check_code(self, cookie: str, code: str) -> None:
        """Link the session to the participant for the verified number, then replay any waiting answer."""
        deps = self.deps
        now = deps.clock()
        async with deps.db.transaction() as session:
            web = await self._session(session, cookie, now)
            assert web.id is not None
            verifications = VerificationRepository(session, deps.vault)
            pending = await verifications.latest(web.id, now)
            # The attempt is counted and committed even when the code is wrong: raising
            # inside the transaction would roll the count back and allow endless guesses.
            accepted = pending is not None and verifications.check(pending, code, now)
            if pending is not None and accepted:
                await self._link(session, web, pending.phone_hash, now)
        if not accepted:
            raise CodeRejected("that code is not right, or there is no code waiting")
        log.info("web.verified", session=web.id, participant=web.participant_id)

    async def _link(
        self, session: AsyncSession, web: WebSession, phone_hash: str, now: datetime
    ) -> None:
        deps = self.deps
        contact = await ContactRepository(session, deps.vault).find_by_hash(phone_hash, lock=True)
        assert contact is not None
        assert contact.id is not None
        participant = await self._participant_for(session, web, contact.id, now)
        web.participant_id = participant.id
        web.auth = Auth.SMS_CODE
        study = self._study(web.study_id)
        language = study.language_or_default(participant.language)
        say = deps.lexicon.say(language, study.timezone)
        WebSessionRepository(session).say(web, "out", say.number_verified(), now)
        waiting, web.waiting_text = web.waiting_text, None
        if waiting:
            await self._linked(session, web, waiting, now)
        session.add(web)

    async def _participant_for(
        self, session: AsyncSession, web: WebSession, contact_id: int, now: datetime
    ) -> Participant:
        """The number's participant in this study; a new one carries the page's place and language."""
        participants = ParticipantRepository(session)
        study = self._study(web.study_id)
        existing = await participants.by_contact(study.id, contact_id)
        if existing is not None:
            existing.language = study.language_or_default(web.language)
            await participants.save(existing, now)
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


def _replies(text: str) -> tuple[Reply, ...]:
    return (Reply(text),)
