"""SQLite through aiosqlite with one trip to its thread per statement, not four.

aiosqlite runs every call on a thread of its own, and SQLAlchemy's adapter makes four
calls for each statement: open a cursor, execute, fetch the rows, close the cursor.
Each trip costs a queue put, a thread wake-up and an event-loop wake-up: profiled on an
SMS turn (about twenty statements), those trips took more time than SQLite did.

:class:`OneTripCursor` does the four in one function on aiosqlite's thread and keeps
what the statement left (rows, description, row count, last row id), so the rest of
SQLAlchemy reads a closed cursor's results exactly as before. Only plain (not
server-side) cursors change; transactions, isolation and connection set-up are
aiosqlite's and SQLAlchemy's own.

Inside a write transaction a statement does not leave the event loop's thread at all
(:func:`mark_write_transaction`). The transaction's BEGIN IMMEDIATE, the one statement
that can wait for another process's write lock, goes to aiosqlite's thread as before,
and so does COMMIT, which waits for the disk. Once the write lock is held no statement
waits for a lock (WAL: readers never block a writer), and the writer lock of
:class:`~consentbot.store.database.Database` already makes every other writer in the
process wait for this one. Measured on an SMS turn under load, the trips there and
back left the event loop idle while a turn held the lock, and the one writer at a time
handled 10 to 20 % fewer turns a second. Read-only transactions keep going to the
thread: a large read must not stop the event loop.

Passed to the engine as its DB-API module (``create_async_engine(..., module=...)``).
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

_Outcome = tuple[Any, int, Any, list[Any] | None]
"""A statement's description, row count, last row id and rows (None: it returned none)."""


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """Execute, fetch and close, on aiosqlite's thread."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else None
        # After the fetch: a RETURNING statement's row count is known only then.
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class _Results:
    """Stands in for the closed sqlite3 cursor: what SQLAlchemy reads after executing."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self) -> None:
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: Any = None
        self.arraysize = 1

    def close(self) -> None:
        """Nothing to close: the real cursor was closed where it ran."""


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statements make one trip each to aiosqlite's thread."""

    __slots__ = ()
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return None

    def _aenter_cursor(self, cursor: Any) -> Any:
        return _Results()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._one_trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._one_trip(operation, seq_of_parameters, many=True)

    async def _one_trip(self, operation: str, parameters: Any, *, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        adapted: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        if adapted.in_write_transaction:
            outcome = _run(connection._conn, operation, parameters, many)
        else:
            async with adapted._execute_mutex:
                outcome = await connection._execute(  # type: ignore[no-untyped-call]
                    _run, connection._conn, operation, parameters, many
                )
        results: _Results = self._cursor  # type: ignore[assignment]
        results.description, results.rowcount, results.lastrowid, rows = outcome
        if rows is not None:
            self._rows = collections.deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """aiosqlite's adapted connection, handing out :class:`OneTripCursor`."""

    __slots__ = ("_write_transaction",)
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._write_transaction = False

    @property
    def in_write_transaction(self) -> bool:
        """Whether statements run here, on the event loop's thread (see the module docstring).

        The flag is set at each BEGIN; sqlite3's own ``in_transaction`` turns it off
        when the transaction ends, however it ends.
        """
        conn: sqlite3.Connection | None = self._connection._connection
        return self._write_transaction and conn is not None and conn.in_transaction


def mark_write_transaction(dbapi_connection: Any, write: bool) -> None:
    """Record whether the transaction BEGIN opens may write: False before BEGIN, so BEGIN
    itself goes to aiosqlite's thread; the transaction's kind just after.

    Called for every SQLite connection; only :class:`OneTripConnection` acts on it.
    """
    if isinstance(dbapi_connection, OneTripConnection):
        dbapi_connection._write_transaction = write


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DB-API adapter whose connections use :class:`OneTripCursor`."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    """The DB-API module to pass to ``create_async_engine`` for ``sqlite+aiosqlite`` URLs."""
    return OneTripDBAPI(aiosqlite, sqlite3)
