"""Personal invitation links: an unguessable token per participant, stored hashed, with an expiry."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.tables import InvitationLink

LINK_LIFETIME = timedelta(days=60)
"""Long enough for a printed letter to arrive and be read."""


def link_hash(token: str) -> str:
    """The stored form of a link token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class LinkRepository:
    """Create and resolve personal links."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, participant_id: int, now: datetime) -> str:
        """A new link token for the participant (returned once)."""
        token = secrets.token_urlsafe(24)
        self.session.add(
            InvitationLink(
                participant_id=participant_id,
                token_hash=link_hash(token),
                created_at=now,
                expires_at=now + LINK_LIFETIME,
            )
        )
        await self.session.flush()
        return token

    async def participant_for(self, token: str, now: datetime) -> int | None:
        """The participant an unexpired, unrevoked link opens."""
        statement = select(InvitationLink.participant_id).where(
            InvitationLink.token_hash == link_hash(token),
            InvitationLink.expires_at > now,
            InvitationLink.revoked_at == None,  # noqa: E711
        )
        return (await self.session.exec(statement)).first()

    async def revoke_all(self, participant_id: int, now: datetime) -> None:
        """Revoke every link of the participant not revoked already: none opens anything again."""
        await self.session.exec(
            update(InvitationLink)
            .where(
                col(InvitationLink.participant_id) == participant_id,
                col(InvitationLink.revoked_at).is_(None),
            )
            .values(revoked_at=now)
        )
