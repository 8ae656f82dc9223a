"""Web sessions and their transcripts."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.provenance import Auth
from consentbot.store.tables import WebFormUse, WebMessage, WebSession

SESSION_LIFETIME = timedelta(days=7)


def session_hash(token: str) -> str:
    """The stored form of a session cookie (the cookie itself is a bearer secret)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class WebSessionRepository:
    """Create, find and extend web sessions; keep their transcripts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        study_id: str,
        language: str,
        now: datetime,
        *,
        participant_id: int | None = None,
        auth: Auth | None = None,
        csrf: str | None = None,
    ) -> tuple[WebSession, str]:
        """A new session and its cookie value (returned once, never stored).

        ``csrf`` carries over the token of the page that made the first POST.
        """
        token = secrets.token_urlsafe(32)
        web = WebSession(
            token_hash=session_hash(token),
            study_id=study_id,
            participant_id=participant_id,
            auth=auth,
            language=language,
            csrf_token=csrf or secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
        self.session.add(web)
        await self.session.flush()
        return web, token

    async def find(self, token: str, now: datetime, *, lock: bool = False) -> WebSession | None:
        """The unexpired session for a cookie value."""
        statement = select(WebSession).where(
            WebSession.token_hash == session_hash(token), WebSession.expires_at > now
        )
        if lock:
            statement = statement.with_for_update()
        return (await self.session.exec(statement)).first()

    async def use_form(self, web: WebSession, form_id: str, now: datetime) -> bool:
        """Record a form's one-time id; False when it was submitted before (do nothing again).

        The unique constraint decides between two copies submitted at the same moment.
        """
        assert web.id is not None
        form_hash = hashlib.sha256(form_id.encode("utf-8")).hexdigest()
        seen = select(WebFormUse.id).where(
            WebFormUse.web_session_id == web.id, WebFormUse.form_hash == form_hash
        )
        if (await self.session.exec(seen)).first() is not None:
            return False
        try:
            async with self.session.begin_nested():
                self.session.add(
                    WebFormUse(web_session_id=web.id, form_hash=form_hash, used_at=now)
                )
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    def touch(self, web: WebSession, now: datetime) -> None:
        """Slide the expiry forward: a session lasts a week after its last use."""
        web.expires_at = now + SESSION_LIFETIME
        self.session.add(web)

    def say(self, web: WebSession, direction: str, body: str, now: datetime) -> None:
        """Append to the transcript."""
        assert web.id is not None
        self.session.add(
            WebMessage(web_session_id=web.id, direction=direction, body=body, created_at=now)
        )

    async def transcript(self, web_session_id: int, after: int = 0) -> Sequence[WebMessage]:
        """The transcript, oldest first, from the message after id ``after``."""
        statement = (
            select(WebMessage)
            .where(WebMessage.web_session_id == web_session_id, col(WebMessage.id) > after)
            .order_by(col(WebMessage.id))
        )
        return (await self.session.exec(statement)).all()
