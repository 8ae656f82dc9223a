"""Research-system API tokens: shown once, stored as SHA-256, scoped to one study."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.tables import ApiToken

PREFIX = "cbt_"


def token_hash(token: str) -> str:
    """SHA-256 is enough: tokens are 256 random bits, not passwords people choose."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenRepository:
    """Create, check, list and revoke bearer tokens."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, study_id: str, label: str, now: datetime) -> str:
        """Store a new token for ``study_id`` and return it (the only time it is visible)."""
        token = PREFIX + secrets.token_urlsafe(32)
        self.session.add(
            ApiToken(study_id=study_id, token_hash=token_hash(token), label=label, created_at=now)
        )
        await self.session.flush()
        return token

    async def find(self, token: str) -> ApiToken | None:
        """The unrevoked token matching ``token``, if any."""
        statement = select(ApiToken).where(
            ApiToken.token_hash == token_hash(token),
            ApiToken.revoked_at == None,  # noqa: E711
        )
        return (await self.session.exec(statement)).first()

    async def all(self) -> Sequence[ApiToken]:
        """Every token ever created, revoked ones included, oldest first."""
        return (await self.session.exec(select(ApiToken).order_by(col(ApiToken.id)))).all()

    async def get(self, token_id: int, *, lock: bool = False) -> ApiToken | None:
        """The token with this id; ``lock`` holds its row until commit (PostgreSQL)."""
        statement = select(ApiToken).where(ApiToken.id == token_id)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.exec(statement)).first()

    def revoke(self, token: ApiToken, now: datetime) -> None:
        """Mark ``token`` revoked: :meth:`find` no longer matches it."""
        token.revoked_at = now
        self.session.add(token)
