"""Research-system API tokens: shown once, stored as SHA-256, scoped to one study."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.tables import ApiToken

PREFIX = "cbt_"


def token_hash(token: str) -> str:
    """SHA-256 is enough: tokens are 256 random bits, not passwords people choose."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenRepository:
    """Create and check bearer tokens."""

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
