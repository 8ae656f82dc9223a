"""Ping a pooled PostgreSQL connection before use only when it has been idle a while.

SQLAlchemy's ``pool_pre_ping`` pings on every checkout, and asyncpg's ping is three round
trips (BEGIN, an empty statement, ROLLBACK). A reminder round or a turn holds a connection
for a few milliseconds, so under load the pings were about three in ten of all the trips to
the server, each one waited for in turn.

What a ping is for is a connection that went stale while nobody used it: the server
restarted, or something between closed an idle socket. A connection checked in a moment ago
was working a moment ago. Should the server go away within that moment, the next statement
on it fails as one in flight would have, and SQLAlchemy then recycles every connection the
pool holds (a disconnect invalidates the pool), so the failure is one transaction, not one
per connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine

PING_AFTER_IDLE_SECONDS = 1.0
"""A connection idle in the pool for this long is pinged before it is handed out."""

_RETURNED_AT = "consentbot_returned_at"


def ping_idle_connections(
    engine: AsyncEngine,
    after: float = PING_AFTER_IDLE_SECONDS,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """Ping each connection the pool hands out if it has been idle ``after`` seconds or more;
    one that does not answer is replaced (the engine must not use ``pool_pre_ping``)."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    def _stamp(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = monotonic()

    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is not None and monotonic() - returned_at < after:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool closes this connection and opens a new one (up to three times).
            raise exc.DisconnectionError("a pooled connection did not answer its ping") from error

    # A new connection has just answered: as good as one returned now.
    event.listen(sync_engine, "connect", _stamp)
    event.listen(sync_engine, "checkin", _stamp)
    event.listen(sync_engine, "checkout", _check)
