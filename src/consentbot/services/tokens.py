"""API tokens for research systems: create, authenticate, list and revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import Conflict, UnknownStudy, UnknownToken
from consentbot.store.tables import ApiToken
from consentbot.store.tokens import TokenRepository


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What may be shown about a token: never the token or its hash."""

    id: int
    study: str
    label: str
    created: datetime
    revoked: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenInfo:
        """The displayable part of a stored token."""
        assert token.id is not None
        return cls(token.id, token.study_id, token.label, token.created_at, token.revoked_at)


class TokenService:
    """Bearer tokens scoped to one study."""

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

    async def create(self, study_id: str, label: str = "") -> str:
        """A new token for ``study_id``; the plain token is returned once and never stored."""
        if self.deps.studies.get(study_id) is None:
            raise UnknownStudy(f"there is no study {study_id!r}")
        async with self.deps.db.transaction() as session:
            return await TokenRepository(session).create(study_id, label, self.deps.clock())

    async def study_of(self, token: str) -> str | None:
        """The study a valid token may read and invite for; None for an unknown or revoked token."""
        async with self.deps.db.read() as session:
            found = await TokenRepository(session).find(token)
            return found.study_id if found else None

    async def list(self) -> list[TokenInfo]:
        """Every token, revoked ones included, oldest first."""
        async with self.deps.db.read() as session:
            return [TokenInfo.of(token) for token in await TokenRepository(session).all()]

    async def revoke(self, token_id: int) -> TokenInfo:
        """Revoke one token: the API refuses it from the next request on.

        Raises :class:`UnknownToken` for an id never issued and :class:`Conflict` for a
        token revoked already (its revocation time is kept, not moved).
        """
        async with self.deps.db.transaction() as session:
            tokens = TokenRepository(session)
            token = await tokens.get(token_id, lock=True)
            if token is None:
                raise UnknownToken(f"there is no token {token_id}", field="id")
            if token.revoked_at is not None:
                when = token.revoked_at.isoformat(timespec="seconds").replace("+00:00", "Z")
                raise Conflict(f"token {token_id} was already revoked at {when}", field="id")
            tokens.revoke(token, self.deps.clock())
            return TokenInfo.of(token)
