"""Removing working data by age, one bounded batch per call, inside the caller's transaction.

Each method picks at most ``limit`` rows oldest first and removes (or blanks) them, and
returns how many it picked: fewer than ``limit`` means nothing more is due. Keeping
batches small keeps each transaction short, so SQLite's one writer lock is never held
for long and the service keeps answering messages while a large backlog is purged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import col, delete, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from consentbot.domain.outbox import SETTLED
from consentbot.store.index_choice import NotFromIndex
from consentbot.store.tables import (
    OUTBOX_UNBLANKED,
    InboundMessage,
    InvitationLink,
    OutboxMessage,
    PhoneVerification,
    WebFormUse,
    WebMessage,
    WebSession,
)


class RetentionRepository:
    """Purge web transcripts, sessions, form ids, codes, outbox bodies and inbound ids."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _ids(self, statement: SelectOfScalar[Any], limit: int) -> list[int]:
        # Each statement is ordered by the column its cut-off is on, which an index holds:
        # the read seeks the old rows and stops at the limit. Ordered by id, SQLite (no
        # statistics) read the whole table in id order to find none, hourly, in a write
        # transaction.
        found = (await self.session.exec(statement.limit(limit))).all()
        return [row_id for row_id in found if row_id is not None]

    async def _delete(self, table: Any, ids: Sequence[int]) -> int:
        if ids:
            await self.session.exec(delete(table).where(col(table.id).in_(ids)))
        return len(ids)

    async def delete_web_messages(self, before: datetime, limit: int) -> int:
        """Transcript lines written before ``before``."""
        ids = await self._ids(
            select(WebMessage.id)
            .where(WebMessage.created_at < before)
            .order_by(col(WebMessage.created_at)),
            limit,
        )
        return await self._delete(WebMessage, ids)

    async def delete_web_sessions(self, expired_before: datetime, limit: int) -> int:
        """Sessions that expired before ``expired_before``, with their transcripts, one-time
        form ids and codes; a personal link first opened in one forgets which session it was.

        An expired session is never found by its cookie again, so nothing writes to
        these rows while they are removed.
        """
        ids = await self._ids(
            select(WebSession.id)
            .where(WebSession.expires_at < expired_before)
            .order_by(col(WebSession.expires_at)),
            limit,
        )
        if not ids:
            return 0
        await self.session.exec(
            update(InvitationLink)
            .where(col(InvitationLink.web_session_id).in_(ids))
            .values(web_session_id=None)
        )
        for child in (WebMessage, WebFormUse, PhoneVerification):
            await self.session.exec(delete(child).where(col(child.web_session_id).in_(ids)))
        return await self._delete(WebSession, ids)

    async def delete_form_uses(self, before: datetime, limit: int) -> int:
        """One-time form ids used before ``before``."""
        ids = await self._ids(
            select(WebFormUse.id)
            .where(WebFormUse.used_at < before)
            .order_by(col(WebFormUse.used_at)),
            limit,
        )
        return await self._delete(WebFormUse, ids)

    async def delete_verifications(self, before: datetime, limit: int) -> int:
        """One-time codes (and the number each went to) sent before ``before``."""
        ids = await self._ids(
            select(PhoneVerification.id)
            .where(PhoneVerification.created_at < before)
            .order_by(col(PhoneVerification.created_at)),
            limit,
        )
        return await self._delete(PhoneVerification, ids)

    async def delete_inbound_ids(self, before: datetime, limit: int) -> int:
        """Gateway message ids received before ``before``."""
        ids = await self._ids(
            select(InboundMessage.id)
            .where(InboundMessage.received_at < before)
            .order_by(col(InboundMessage.received_at)),
            limit,
        )
        return await self._delete(InboundMessage, ids)

    async def blank_outbox_bodies(self, settled_before: datetime, limit: int) -> int:
        """Empty the text and secret of messages settled before ``settled_before``.

        The row stays (kind, status, segments, times, delivery report): the record that
        a message went, without what it said. No column holds the moment a message was
        settled; it happened after every time the row records (``send_after``, the last
        claim, ``sent_at``), so all of them must be before the cut-off. Pending and
        sending messages are never touched, however old.
        """
        ids = await self._ids(
            select(OutboxMessage.id)
            .where(
                # Checked on each row, not sought: through ix_outbox_due (status, send_after)
                # SQLite read every old settled message, blanked or not, and sorted them.
                NotFromIndex(col(OutboxMessage.status)).in_(SETTLED),
                OutboxMessage.send_after < settled_before,
                or_(
                    col(OutboxMessage.claimed_at).is_(None),
                    col(OutboxMessage.claimed_at) < settled_before,
                ),
                or_(
                    col(OutboxMessage.sent_at).is_(None),
                    col(OutboxMessage.sent_at) < settled_before,
                ),
                # The index's own condition, as it is written there (no bound values).
                text(f"({OUTBOX_UNBLANKED})"),
            )
            .order_by(col(OutboxMessage.send_after)),
            limit,
        )
        if ids:
            await self.session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(ids))
                .values(body="", secret_encrypted=None)
            )
        return len(ids)
