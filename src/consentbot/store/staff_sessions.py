"""Staff sessions (stored by the cookie's hash) and failed login attempts."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.tables import StaffLoginFailure, StaffSession
from consentbot.store.tokens import token_hash


class StaffSessionRepository:
    """Open, find, touch and end staff sessions; count failed logins."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open(self, user_id: int, now: datetime) -> tuple[str, StaffSession]:
        """A new session for ``user_id``: its cookie (returned once, stored as a hash) and row."""
        token = secrets.token_urlsafe(32)
        row = StaffSession(
            token_hash=token_hash(token),
            staff_user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return token, row

    async def find(self, token: str) -> StaffSession | None:
        """The session the cookie ``token`` belongs to, unless it was ended."""
        statement = select(StaffSession).where(
            StaffSession.token_hash == token_hash(token),
            StaffSession.ended_at == None,  # noqa: E711
        )
        return (await self.session.exec(statement)).first()

    def save(self, row: StaffSession) -> None:
        """Keep changes made to ``row``."""
        self.session.add(row)

    async def end_all(self, user_id: int, now: datetime) -> None:
        """End every open session of the account (disabled, or a new password set)."""
        statement = select(StaffSession).where(
            StaffSession.staff_user_id == user_id,
            StaffSession.ended_at == None,  # noqa: E711
        )
        for row in (await self.session.exec(statement)).all():
            row.ended_at = now
            self.session.add(row)

    async def failures_since(self, key_hash: str, since: datetime) -> Sequence[datetime]:
        """When each failure counted against ``key_hash`` after ``since`` happened, oldest first."""
        statement = (
            select(StaffLoginFailure.occurred_at)
            .where(
                StaffLoginFailure.key_hash == key_hash,
                col(StaffLoginFailure.occurred_at) > since,
            )
            .order_by(col(StaffLoginFailure.occurred_at))
        )
        return (await self.session.exec(statement)).all()

    def add_failure(self, key_hash: str, now: datetime) -> None:
        """Count one failed attempt against ``key_hash``."""
        self.session.add(StaffLoginFailure(key_hash=key_hash, occurred_at=now))

    async def forget_failures(self, key_hash: str) -> None:
        """A successful login clears its account's count (not its address's)."""
        await self.session.exec(
            delete(StaffLoginFailure).where(col(StaffLoginFailure.key_hash) == key_hash)
        )
