"""Personal invitation links: an unguessable token per participant, stored hashed.

A link is not a password: it opens one browser session (the first that uses it), and
WITHDRAW, STOP and its expiry revoke it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.direct_sql import execute
from consentbot.store.tables import InvitationLink

_CREATE = insert(InvitationLink.__table__).values(  # type: ignore[attr-defined]
    participant_id=bindparam("participant"),
    token_hash=bindparam("token_hash"),
    created_at=bindparam("now"),
    expires_at=bindparam("expires_at"),
)


def link_hash(token: str) -> str:
    """The stored form of a link token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class LinkRepository:
    """Create, resolve, bind and revoke personal links."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, participant_id: int, now: datetime, lifetime: timedelta) -> str:
        """A new link token for the participant (returned once, stored only as a hash)."""
        token = secrets.token_urlsafe(24)
        values = {
            "participant": participant_id,
            "token_hash": link_hash(token),
            "now": now,
            "expires_at": now + lifetime,
        }
        # A Core insert: nothing reads the row back, and a tracked row's flush would also
        # write every other row the transaction changed (a group of invitations' rows,
        # which it writes together at its end).
        await execute(self.session, _CREATE, values)
        return token

    async def usable(self, token: str, now: datetime) -> InvitationLink | None:
        """The unexpired, unrevoked link for ``token``, locked for binding."""
        statement = (
            select(InvitationLink)
            .where(
                InvitationLink.token_hash == link_hash(token),
                InvitationLink.expires_at > now,
                InvitationLink.revoked_at == None,  # noqa: E711
            )
            .with_for_update()
        )
        return (await self.session.exec(statement)).first()

    def bind(self, link: InvitationLink, web_session_id: int) -> None:
        """Tie the link to the browser session that used it first."""
        link.web_session_id = web_session_id
        self.session.add(link)

    async def revoke(self, participant_ids: Sequence[int], now: datetime) -> None:
        """Revoke every live link of these participants."""
        if not participant_ids:
            return
        await self.session.exec(
            update(InvitationLink)
            .where(
                col(InvitationLink.participant_id).in_(list(participant_ids)),
                col(InvitationLink.revoked_at).is_(None),
            )
            .values(revoked_at=now)
            # No link the session holds is read again after this in the transaction.
            .execution_options(synchronize_session=False)
        )
