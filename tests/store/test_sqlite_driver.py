"""The SQLite driver: one trip to aiosqlite's thread per statement (none inside a write
transaction), with every result intact."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Integer, String, bindparam, column, insert, select, table, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from consentbot.store.database import Database
from consentbot.store.sqlite_driver import OneTripCursor

ITEMS = table("item", column("id", Integer), column("name", String))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with database.transaction() as session:
        await session.exec(  # type: ignore[call-overload]
            text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
        )
    yield database
    await database.dispose()


@pytest.fixture
def other_writer(db: Database) -> Iterator[sqlite3.Connection]:
    """Another process's connection to ``db``'s file (its table made), holding the write
    lock until it commits."""
    other = sqlite3.connect(make_url(db.url).database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    other.close()


async def insert_name(db: Database, name: str) -> None:
    async with db.transaction() as session:
        await session.exec(insert(ITEMS).values(name=name))


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The functions sent to aiosqlite's thread, by name, from now on."""
    sent: list[str] = []
    original: Callable[..., Any] = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_the_engine_uses_the_one_trip_cursor(db: Database) -> None:
    async with db.transaction() as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)  # type: ignore[union-attr]


async def test_a_read_makes_one_trip_per_statement(db: Database, trips: list[str]) -> None:
    async with db.transaction() as session:
        await session.exec(insert(ITEMS).values(name="a"))
    trips.clear()
    async with db.read() as session:
        found = (await session.exec(select(ITEMS.c.name))).all()  # type: ignore[call-overload]
        assert [tuple(row) for row in found] == [("a",)]
        await session.exec(select(ITEMS.c.id))  # type: ignore[call-overload]
    # BEGIN, then a trip for each select, then the commit, and the pool's rollback as
    # the connection goes back (a no-op after a commit, a safeguard after a failure).
    assert trips == ["_run", "_run", "_run", "commit", "rollback"]


async def test_a_write_transaction_leaves_the_loop_only_to_begin_and_commit(
    db: Database, trips: list[str]
) -> None:
    async with db.transaction() as session:
        await session.exec(insert(ITEMS).values(name="a"))
        found = (await session.exec(select(ITEMS.c.name))).all()  # type: ignore[call-overload]
        assert [tuple(row) for row in found] == [("a",)]
        await session.exec(update(ITEMS).values(name="b"))
    # BEGIN IMMEDIATE may wait for another process's lock and COMMIT for the disk: both
    # on aiosqlite's thread, as is the pool's rollback. The statements between run on the
    # event loop's.
    assert trips == ["_run", "commit", "rollback"]
    async with db.read() as session:
        names = (await session.exec(select(ITEMS.c.name))).all()  # type: ignore[call-overload]
        assert [row[0] for row in names] == ["b"]


async def test_waiting_for_another_process_lock_does_not_stop_the_event_loop(
    db: Database, other_writer: sqlite3.Connection
) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    writing = asyncio.create_task(insert_name(db, "later"))
    await asyncio.sleep(0.3)
    assert not writing.done()
    assert ticks >= 10, "the event loop stopped while BEGIN IMMEDIATE waited"
    other_writer.execute("COMMIT")
    await writing
    ticker.cancel()
    async with db.read() as session:
        names = (await session.exec(select(ITEMS.c.name))).all()  # type: ignore[call-overload]
        assert [row[0] for row in names] == ["later"]


async def test_row_counts_last_row_ids_and_returning(db: Database) -> None:
    async with db.transaction() as session:
        first = await session.exec(insert(ITEMS).values(name="a"))
        assert first.lastrowid == 1
        returned = await session.exec(
            insert(ITEMS).values(name="b").returning(ITEMS.c.id, ITEMS.c.name)
        )
        assert [tuple(row) for row in returned.all()] == [(2, "b")]
        changed = await session.exec(
            update(ITEMS).where(ITEMS.c.id == bindparam("item")).values(name=bindparam("new")),
            params=[{"item": 1, "new": "x"}, {"item": 2, "new": "y"}],
        )
        assert changed.rowcount == 2
        none = await session.exec(update(ITEMS).where(ITEMS.c.id == 99).values(name="z"))
        assert none.rowcount == 0
        names = (await session.exec(select(ITEMS.c.name).order_by(ITEMS.c.id))).all()  # type: ignore[call-overload]
        assert [row[0] for row in names] == ["x", "y"]


async def test_a_failing_statement_raises_sqlalchemys_error_and_rolls_back(db: Database) -> None:
    async def twice() -> None:
        async with db.transaction() as session:
            await session.exec(insert(ITEMS).values(name="same"))
            await session.exec(insert(ITEMS).values(name="same"))

    with pytest.raises(IntegrityError):
        await twice()
    async with db.read() as session:
        assert (await session.exec(select(ITEMS.c.id))).all() == []  # type: ignore[call-overload]


async def test_a_writer_cancelled_while_waiting_for_the_lock_leaves_no_transaction_open(
    db: Database, other_writer: sqlite3.Connection
) -> None:
    """Its BEGIN IMMEDIATE still runs on aiosqlite's thread after the cancellation and
    takes the lock. Whatever the pool then does with that connection, no transaction stays
    open, and the next writer begins afresh rather than inside the stale transaction."""
    cancelled = asyncio.create_task(insert_name(db, "cancelled"))
    await asyncio.sleep(0.2)
    cancelled.cancel()
    await asyncio.sleep(0.1)
    # Its BEGIN IMMEDIATE, still queued on aiosqlite's thread, now gets the lock.
    other_writer.execute("COMMIT")
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await insert_name(db, "next")
    # No connection of the pool holds the write lock: another process can take it.
    other_writer.execute("PRAGMA busy_timeout = 2000")
    other_writer.execute("BEGIN IMMEDIATE")
    other_writer.execute("COMMIT")
    async with db.read() as session:
        names = (await session.exec(select(ITEMS.c.name))).all()  # type: ignore[call-overload]
        assert [row[0] for row in names] == ["next"]
