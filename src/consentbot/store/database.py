"""The async engine and transactions, for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.direct_sql import direct_savepoints
from consentbot.store.group_commit import GroupCommit
from consentbot.store.idle_ping import ping_idle_connections
from consentbot.store.sqlite_driver import mark_write_transaction, one_trip_dbapi

DATABASE_WAIT_SECONDS = 10
"""The longest a request waits to connect, for a pooled connection or for SQLite's lock.

Below Twilio's 15-second webhook timeout, so a gateway gets a 503 to retry rather than
a dropped connection.
"""


T = TypeVar("T")

SQLITE_MMAP_BYTES = 1024 * 1024 * 1024
"""Address space (not memory) SQLite may map per connection; pages are shared with the OS."""


def sync_url(url: str) -> str:
    """The same database through a synchronous driver, for Alembic."""
    parsed = make_url(url)
    driver = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}[parsed.get_backend_name()]
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


class Database:
    """Owns the engine; hands out sessions and transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # Errors would otherwise quote statement parameters (message texts) into logs.
        options: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            # The connection is opened on aiosqlite's thread; inside a write transaction its
            # statements run on the event loop's (see sqlite_driver).
            options["connect_args"] = {
                "timeout": DATABASE_WAIT_SECONDS,
                "check_same_thread": False,
            }
            if parsed.get_driver_name() == "aiosqlite":
                options["module"] = one_trip_dbapi()
            if parsed.database in (None, "", ":memory:"):
                raise ValueError(
                    "use a file for SQLite: an in-memory database is one per connection"
                )
        else:
            # Enough for the web, the outbox and the scheduler at once. No overflow: an
            # overflow connection is closed when it comes back, so at 32 webhooks at once
            # a pool of 20 (with 10 overflow) kept opening connections and preparing every
            # statement afresh on each (a sixth of a turn's CPU). Past 36 at once, callers
            # wait for one instead. Opened only as needed; two workers stay well within
            # PostgreSQL's default max_connections of 100. Last in, first out: the few
            # connections in use stay warm and are never idle long enough to be pinged
            # (see idle_ping), while the rest of the pool rests.
            options.update(
                pool_size=36,
                max_overflow=0,
                pool_use_lifo=True,
                pool_timeout=DATABASE_WAIT_SECONDS,
            )
            timeout_arg = {"asyncpg": "timeout", "psycopg": "connect_timeout"}
            if name := timeout_arg.get(parsed.get_driver_name()):
                options["connect_args"] = {name: DATABASE_WAIT_SECONDS}
        self.engine: AsyncEngine = create_async_engine(url, **options)
        self._read_engine = self.engine.execution_options(consentbot_read_only=True)
        # SQLite has one writer at a time. Queueing writers on an asyncio lock wakes
        # the next one the moment the lock frees; left to SQLite's busy handler they
        # sleep and poll. Other processes on the same file still wait via busy_timeout.
        self._writer = asyncio.Lock() if self.is_sqlite else None
        self.group = GroupCommit(self.transaction) if self.is_sqlite else None
        """Where :meth:`grouped` callers queue (SQLite only)."""
        self._on_commit: dict[str, list[Callable[[], None]]] = {}
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        else:
            _configure_postgresql(self.engine)
            ping_idle_connections(self.engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one read-write transaction: committed on success, rolled back on error.

        ``expire_on_commit=False`` so objects stay readable after commit without lazy loads.
        """
        async with AsyncExitStack() as stack:
            if self._writer is not None:
                await stack.enter_async_context(self._writer)
            session = await stack.enter_async_context(
                AsyncSession(self.engine, expire_on_commit=False)
            )
            await stack.enter_async_context(session.begin())
            yield session
        # Committed: tell whoever waits for what this transaction wrote (see on_commit).
        for flag, callbacks in self._on_commit.items():
            if session.info.get(flag):
                for callback in callbacks:
                    callback()

    async def grouped(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``await work(session)`` inside a read-write transaction; its result once committed.

        On SQLite the transaction may be shared with other callers' work, each in its own
        savepoint (see :mod:`~consentbot.store.group_commit`): for short, frequent writes
        such as a turn. On PostgreSQL, where writers do not queue for one lock, each caller
        has a transaction of its own.
        """
        if self.group is None:
            async with self.transaction() as session:
                return await work(session)
        return await self.group.run(work)

    def on_commit(self, flag: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` after each committed transaction whose session has ``flag`` set
        in ``session.info``: a repository marks what it wrote, a background loop wakes for
        it, and every other commit costs that loop nothing."""
        self._on_commit.setdefault(flag, []).append(callback)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction: on SQLite it takes no write lock (WAL readers never wait)."""
        async with (
            AsyncSession(self._read_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers; BEGIN IMMEDIATE so two writers queue instead of failing.

    Read-only transactions (``Database.read``) begin DEFERRED and take no lock.

    Without IMMEDIATE, a transaction that reads and then writes can fail at once with
    SQLITE_BUSY when another writer committed in between; the busy timeout cannot help.

    ``synchronous=FULL``: with WAL, NORMAL may lose the last commits on power loss, and
    the dispatcher sends a message about a ledger event right after its commit. A
    confirmation must never reach someone whose consent the database then forgot.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={DATABASE_WAIT_SECONDS * 1000}")
        # Reads straight from the OS page cache instead of copying pages into each
        # connection's small cache: a consent check probes 100,000 index entries at once.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    direct_savepoints(engine.sync_engine.dialect)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get("consentbot_read_only", False)
        dbapi_connection = connection.connection.dbapi_connection
        # BEGIN itself goes to aiosqlite's thread, behind anything a cancelled caller
        # left there (the pool's rollback), whatever the last transaction was.
        mark_write_transaction(dbapi_connection, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
        mark_write_transaction(dbapi_connection, not read_only)


def _configure_postgresql(engine: AsyncEngine) -> None:
    """``synchronous_commit = on`` for every connection, whatever the server or role default.

    As with SQLite's ``synchronous=FULL``: a commit must be on disk before the
    dispatcher can send a message about it.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute("SET synchronous_commit TO on")
        cursor.close()
        dbapi_connection.autocommit = autocommit
