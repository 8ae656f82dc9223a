"""Web sessions: what a page shows, the first POST that creates a session, personal links.

Reading a study needs no session: a GET writes nothing. The first form a visitor sends
creates their session (its CSRF token is the one the page carried in a pre-session
cookie). A personal link opens one session, in the first browser that uses it; anywhere
else it shows the study and asks for a texted code like any visitor.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.model import Study
from consentbot.conversation.state import ConversationState
from consentbot.domain.provenance import Auth
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import SessionExpired, UnknownStudy
from consentbot.store.links import LinkRepository
from consentbot.store.participants import ParticipantRepository
from consentbot.store.tables import WebMessage, WebSession
from consentbot.store.verifications import VerificationRepository
from consentbot.store.web_sessions import WebSessionRepository

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class WebPage:
    """Everything a page shows for one visitor (``session`` None: not started yet)."""

    study: Study
    language: str
    csrf: str
    session: WebSession | None = None
    transcript: list[WebMessage] = field(default_factory=list)
    linked: bool = False
    state: ConversationState = field(default_factory=ConversationState)
    awaiting_code: bool = False
    consent_statuses: dict[str, str] = field(default_factory=dict)
    form_id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    """A one-time id for the forms of this rendering: a repeated submit is recognised."""

    @property
    def waiting(self) -> bool:
        """An answer is waiting for the number to be checked."""
        return self.session is not None and self.session.waiting_text is not None


@dataclass(frozen=True, slots=True)
class LinkOpened:
    """The result of opening a personal link."""

    study_id: str
    cookie: str | None
    """A new session cookie to set; None when the browser already holds the link's session."""
    elsewhere: bool = False
    """The link was first opened in another browser: this one gets an ordinary page."""


class WebSessionService:
    """Find, start and show web sessions; open personal links."""

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

    def study(self, study_id: str) -> Study:
        """The study a page is about; :class:`UnknownStudy` if there is none."""
        study = self.deps.studies.get(study_id)
        if study is None:
            raise UnknownStudy(f"there is no study {study_id!r}")
        return study

    async def page(
        self, study_id: str, cookie: str | None, preferred: list[str], csrf: str
    ) -> WebPage:
        """What to show. Read-only: a visitor without a session gets the study, nothing stored.

        ``csrf`` is the pre-session token for a visitor without a session.
        """
        study = self.study(study_id)
        now = self.deps.clock()
        async with self.deps.db.read() as session:
            web = await self.find(session, cookie, study.id, now) if cookie else None
            if web is None:
                language = next((c for c in preferred if c in study.texts), study.default_language)
                return WebPage(study, language, csrf)
            return await self.page_of(session, study, web, now)

    async def page_of(
        self, session: AsyncSession, study: Study, web: WebSession, now: datetime
    ) -> WebPage:
        """What to show for the session ``web`` (also an assisted session's page)."""
        assert web.id is not None
        transcript = list(await WebSessionRepository(session).transcript(web.id))
        verifications = VerificationRepository(session, self.deps.vault)
        awaiting = await verifications.latest(web.id, now, lock=False) is not None
        state = ConversationState.from_json(web.conversation)
        language = study.language_or_default(web.language)
        statuses: dict[str, str] = {}
        if web.participant_id is not None:
            participants = ParticipantRepository(session)
            participant = await participants.get(web.participant_id)
            assert participant is not None
            state = ConversationState.from_json(participant.conversation)
            language = study.language_or_default(participant.language)
            statuses = {
                s.purpose_id: s.status for s in await participants.consent(participant.id or 0)
            }
        return WebPage(
            study,
            language,
            web.csrf_token,
            web,
            transcript,
            web.participant_id is not None,
            state,
            awaiting,
            statuses,
        )

    @staticmethod
    async def find(
        session: AsyncSession, cookie: str, study_id: str, now: datetime, *, lock: bool = False
    ) -> WebSession | None:
        """The unexpired session for ``cookie`` in this study."""
        web = await WebSessionRepository(session).find(cookie, now, lock=lock)
        return web if web is not None and web.study_id == study_id else None

    async def for_post(
        self,
        session: AsyncSession,
        study_id: str,
        cookie: str | None,
        csrf: str,
        language: str,
        now: datetime,
    ) -> tuple[WebSession, str | None]:
        """The session a form belongs to, created now if this is the visitor's first form.

        Returns the session and, when it was just created, its cookie value. The caller has
        checked ``csrf`` against the page's token (the session's, or the pre-session one).
        """
        study = self.study(study_id)
        if cookie:
            web = await self.find(session, cookie, study.id, now)
            if web is not None:
                WebSessionRepository(session).touch(web, now)
                return web, None
        created, token = await WebSessionRepository(session).create(
            study.id, study.language_or_default(language), now, csrf=csrf
        )
        log.info("web.session_started", study=study.id, session=created.id)
        return created, token

    async def csrf_of(self, study_id: str, cookie: str) -> str | None:
        """The CSRF token of the session for ``cookie`` in this study, if it has one."""
        now = self.deps.clock()
        async with self.deps.db.read() as session:
            web = await self.find(session, cookie, study_id, now)
            return web.csrf_token if web else None

    async def open_link(self, token: str, cookie: str | None) -> LinkOpened:
        """Open a personal link: bind it to this browser on first use; elsewhere, a plain page."""
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            links = LinkRepository(session)
            link = await links.usable(token, now)
            if link is None:
                raise SessionExpired("this link is not valid, was revoked or has expired")
            participant = await ParticipantRepository(session).get(link.participant_id)
            if participant is None or participant.erased_at is not None:
                raise SessionExpired("this link is not valid any more")
            sessions = WebSessionRepository(session)
            if link.web_session_id is not None:
                mine = await sessions.find(cookie, now) if cookie else None
                if mine is not None and mine.id == link.web_session_id:
                    return LinkOpened(participant.study_id, None)
                log.info("web.link_elsewhere", participant=participant.id)
                return LinkOpened(participant.study_id, None, elsewhere=True)
            web, new_cookie = await sessions.create(
                participant.study_id,
                participant.language,
                now,
                participant_id=participant.id,
                auth=Auth.LINK,
            )
            assert web.id is not None
            links.bind(link, web.id)
        log.info("web.link_opened", study=web.study_id, session=web.id, participant=participant.id)
        return LinkOpened(web.study_id, new_cookie)
