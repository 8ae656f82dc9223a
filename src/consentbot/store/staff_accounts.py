"""Staff accounts and their one-time set-password links."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.staff import StaffRole
from consentbot.store.tables import StaffPasswordToken, StaffUser
from consentbot.store.tokens import token_hash


def studies_of(user: StaffUser) -> tuple[str, ...]:
    """The study ids stored on ``user`` (a study team's studies)."""
    loaded: list[str] = json.loads(user.studies)
    return tuple(loaded)


class StaffAccountRepository:
    """Create, find and change staff accounts; issue and redeem set-password links."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_email(self, email: str) -> StaffUser | None:
        """The account with this (lower-cased) email, disabled or not."""
        statement = select(StaffUser).where(StaffUser.email == email)
        return (await self.session.exec(statement)).first()

    async def get(self, user_id: int) -> StaffUser | None:
        """The account with this id."""
        return await self.session.get(StaffUser, user_id)

    async def all(self) -> Sequence[StaffUser]:
        """Every account, oldest first."""
        return (await self.session.exec(select(StaffUser).order_by(col(StaffUser.id)))).all()

    async def add(
        self,
        email: str,
        role: StaffRole,
        studies: Sequence[str],
        organisation: str | None,
        now: datetime,
    ) -> StaffUser:
        """A new account with no password yet."""
        user = StaffUser(
            email=email,
            role=role,
            studies=json.dumps(list(studies)),
            organisation=organisation,
            created_at=now,
        )
        self.session.add(user)
        await self.session.flush()
        return user

    async def issue_password_token(self, user: StaffUser, now: datetime, expires: datetime) -> str:
        """A new one-time set-password token for ``user``; returned once, stored as a hash."""
        assert user.id is not None
        token = secrets.token_urlsafe(32)
        self.session.add(
            StaffPasswordToken(
                token_hash=token_hash(token),
                staff_user_id=user.id,
                created_at=now,
                expires_at=expires,
            )
        )
        await self.session.flush()
        return token

    async def password_token(
        self, token: str, now: datetime, *, lock: bool = False
    ) -> StaffPasswordToken | None:
        """The unused, unexpired set-password token matching ``token``, if any; ``lock``
        holds its row until commit (PostgreSQL), so two requests cannot both use it."""
        statement = select(StaffPasswordToken).where(
            StaffPasswordToken.token_hash == token_hash(token),
            StaffPasswordToken.used_at == None,  # noqa: E711
            col(StaffPasswordToken.expires_at) > now,
        )
        if lock:
            statement = statement.with_for_update()
        return (await self.session.exec(statement)).first()

    async def use_password_tokens(self, user_id: int, now: datetime) -> None:
        """Mark every outstanding link of the account used: a password is set once per link."""
        statement = select(StaffPasswordToken).where(
            StaffPasswordToken.staff_user_id == user_id,
            StaffPasswordToken.used_at == None,  # noqa: E711
        )
        for token in (await self.session.exec(statement)).all():
            token.used_at = now
            self.session.add(token)

    def save(self, user: StaffUser) -> None:
        """Keep changes made to ``user``."""
        self.session.add(user)


def totp_aad(user_id: int) -> str:
    """What a staff account's sealed TOTP secret is bound to: copied to another account's
    row, it will not open."""
    return f"staff-totp:{user_id}"
