"""Read plain values on the hot path, without the ORM's per-statement work.

A query through the session costs a few hundred µs of Python for the ORM's compile
state, result processing and identity bookkeeping, several times what SQLite takes to
run it. A turn's reads of values it does not change (a number's waiting call-backs, its
consent) need none of that: they run on the session's connection as Core statements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.direct_sql import execute


async def plain_rows(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any]
) -> Sequence[Any]:
    """The rows of ``statement``, plain values, in the session's transaction.

    What this transaction has changed is flushed first, as an ORM query would: the
    rows must show the transaction's own writes. Each row unpacks like a tuple (see
    :mod:`~consentbot.store.direct_sql`, which runs it).
    """
    sync = session.sync_session
    if sync.new or sync.deleted or sync.dirty:  # a flush with nothing to write still costs
        await session.flush()
    return (await execute(session, statement, params)).rows
