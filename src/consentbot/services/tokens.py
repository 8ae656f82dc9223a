"""API tokens for research systems: create and authenticate."""

from __future__ import annotations

from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import UnknownStudy
from consentbot.store.tokens import TokenRepository


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
