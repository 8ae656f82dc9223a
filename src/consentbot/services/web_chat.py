"""The web channel: the same conversation, rules and ledger as SMS, shown in a browser.

Every form a page sends is one transaction here: find (or, for a first form, create) the
session, recognise a repeated submit by its one-time form id, then act. What the person
types goes through the turn pipeline like an SMS; an anonymous visitor may read, and an
answer they give waits until their number is checked (see verification.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import CodeRejected, InvalidInput
from consentbot.services.pipeline import (
    Anonymous,
    ForParticipant,
    LanguageChosen,
    Said,
    Stimulus,
    ToPage,
    TurnPipeline,
)
from consentbot.services.verification import VerificationService
from consentbot.services.web_sessions import WebSessionService
from consentbot.store.participants import ParticipantRepository
from consentbot.store.tables import WebSession
from consentbot.store.web_sessions import WebSessionRepository

log = structlog.get_logger(__name__)

MAX_TEXT = 500


class Action(StrEnum):
    """What a posted form asks for."""

    SAY = "say"
    LANGUAGE = "language"
    SEND_CODE = "send-code"
    CHECK_CODE = "check-code"


@dataclass(frozen=True, slots=True)
class Posted:
    """One form as the handler read it, its CSRF token already checked."""

    study_id: str
    cookie: str | None
    csrf: str
    form_id: str
    action: Action
    value: str
    """The text, the language code, the phone number or the code."""
    question: str | None = None
    """For SAY: the question the page showed when the person answered."""
    client: str = ""
    """The client's address (for the per-address code limit)."""
    language: str = ""
    """The page's language: a session created by this form starts in it."""


@dataclass(frozen=True, slots=True)
class Handled:
    """What a form led to."""

    cookie: str | None
    """A new session cookie to set (the visitor's first form)."""
    repeated: bool = False
    """The same form was submitted before: nothing was done again."""


class WebChatService:
    """Runs what a page's forms ask for."""

    def __init__(
        self,
        deps: ServiceDeps,
        pipeline: TurnPipeline,
        sessions: WebSessionService,
        verification: VerificationService,
    ) -> None:
        self.deps = deps
        self.pipeline = pipeline
        self.sessions = sessions
        self.verification = verification

    async def handle(self, posted: Posted) -> Handled:
        """Do what ``posted`` asks, once.

        Service errors (:class:`InvalidInput`, rate limits, :class:`CodeRejected`) reach
        the caller; a wrong code's attempt is committed first, so guesses stay counted.
        """
        deps = self.deps
        now = deps.clock()
        rejected: CodeRejected | None = None
        async with deps.db.transaction() as session:
            web, cookie = await self.sessions.for_post(
                session, posted.study_id, posted.cookie, posted.csrf, posted.language, now
            )
            if not await WebSessionRepository(session).use_form(web, posted.form_id, now):
                log.info("web.form_repeated", session=web.id)
                return Handled(cookie, repeated=True)
            try:
                await self._act(session, web, posted, now)
            except CodeRejected as error:
                rejected = error
        if rejected is not None:
            raise rejected
        deps.on_outbox()
        return Handled(cookie)

    async def _act(
        self, session: AsyncSession, web: WebSession, posted: Posted, now: datetime
    ) -> None:
        if posted.action is Action.SAY:
            await self._say(session, web, posted.value, posted.question, now)
        elif posted.action is Action.LANGUAGE:
            await self._language(session, web, posted.value, now)
        elif posted.action is Action.SEND_CODE:
            await self.verification.send_code(session, web, posted.value, posted.client, now)
        else:
            await self.verification.check_code(session, web, posted.value, now)

    async def _say(
        self,
        session: AsyncSession,
        web: WebSession,
        text: str,
        question: str | None,
        now: datetime,
    ) -> None:
        text = text.strip()[:MAX_TEXT]
        if not text:
            return
        WebSessionRepository(session).say(web, "in", text, now)
        outcome = await self._turn(session, web, Said(text, seen_question=question), now)
        if outcome:
            return
        # An anonymous visitor asked for something only a person may do: it waits for a
        # checked number, together with the question it answered.
        web.waiting_text = text
        web.waiting_question = question if question is not None else ""
        session.add(web)
        study = self.sessions.study(web.study_id)
        say = self.deps.lexicon.say(study.language_or_default(web.language), study.timezone)
        WebSessionRepository(session).say(web, "out", say.verify_first(), now)

    async def _language(
        self, session: AsyncSession, web: WebSession, language: str, now: datetime
    ) -> None:
        study = self.sessions.study(web.study_id)
        if language not in study.texts:
            raise InvalidInput(f"{language!r} is not offered by this study", field="language")
        web.language = language
        web.language_chosen = True
        session.add(web)
        await self._turn(session, web, LanguageChosen(language), now)

    async def _turn(
        self, session: AsyncSession, web: WebSession, stimulus: Stimulus, now: datetime
    ) -> bool:
        """One turn through the pipeline; False when an anonymous visitor must verify first."""
        if web.participant_id is None:
            outcome = await self.pipeline.run(
                session, Anonymous(web), stimulus, _ANONYMOUS, ToPage(web), now
            )
            return not outcome.needs_identity
        provenance = Provenance(Channel.WEB, "participant", web.auth or Auth.SMS_CODE)
        outcome = await self.pipeline.run(
            session, ForParticipant(web.participant_id), stimulus, provenance, ToPage(web), now
        )
        participant = await ParticipantRepository(session).get(web.participant_id)
        if outcome.turn is not None and participant is not None:
            # The page follows the person's language, which SMS and other pages share.
            web.language = participant.language
            session.add(web)
        return True


_ANONYMOUS = Provenance(Channel.WEB, "visitor", Auth.SYSTEM)
"""Anonymous turns never reach the ledger; the provenance is only for the pipeline's log."""
