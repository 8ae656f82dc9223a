"""Personal invitation links: an unguessable token per participant, stored hashed.

A link is not a password: it opens one browser session (the first that uses it), and
WITHDRAW, STOP and its expiry revoke it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.direct_sql import execute
from consentbot.store.loaded_rows import table_of
from consentbot.store.tables import InvitationLink

_links = table_of(InvitationLink)
_CREATE = insert(_links).values(
    participant_id=bindparam("participant"),
    token_hash=bindparam("token_hash"),
    created_at=bindparam("now"),
    expires_at=bindparam("expires_at"),
)
# Run on the connection, not through the session: no link the session holds is read again
# after this in the transaction, and a session query would first flush the turn's rows,
# which the turn writes itself at its end (store/row_writes.py).
_REVOKE = (
    update(_links)
    .where(_links.c.participant_id.in_(bindparam("participants", expanding=True)))
    .where(_links.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
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
        params = {"participants": list(participant_ids), "now": now}
        await execute(self.session, _REVOKE, params)
