"""PostgreSQL connections are pinged before use only after a while idle in the pool: a
connection just returned is handed out as it is, one the server dropped while it sat idle is
replaced before anyone uses it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import bindparam, exc, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from consentbot.store.database import Database
from consentbot.store.direct_sql import execute
from consentbot.store.errors import is_unavailable
from consentbot.store.idle_ping import ping_idle_connections
from consentbot.store.tables import Contact
from tests.support.stopwatch import Stopwatch

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

CONTACT = Contact.__table__  # type: ignore[attr-defined]
STOP = update(CONTACT).where(CONTACT.c.phone_hash == bindparam("hash")).values(stopped=True)
"""A statement direct_sql sends straight to asyncpg."""


def count_pings(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Each ping the engine's dialect sends, as it is sent."""
    dialect = engine.sync_engine.dialect
    pings: list[object] = []
    ping = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


@pytest.fixture
def monotonic() -> Stopwatch:
    return Stopwatch()


@pytest.fixture
async def engine(database_url: str, monotonic: Stopwatch) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, pool_size=2, max_overflow=0, pool_use_lifo=True)
    ping_idle_connections(engine, after=5.0, monotonic=monotonic)
    yield engine
    await engine.dispose()


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    assert isinstance(pid, int)
    return pid


async def terminate(database_url: str, pid: int) -> None:
    """The server ends that backend, as a restart or an idle timeout would."""
    other = create_async_engine(database_url)
    async with other.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # Gone from the server's view before the test goes on: the signal is asynchronous.
        for _ in range(500):
            alive = await connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
            if alive.scalar_one() == 0:
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail(f"backend {pid} still running 5 s after pg_terminate_backend")
    await other.dispose()


async def test_a_connection_returned_a_moment_ago_is_not_pinged(
    engine: AsyncEngine, monotonic: Stopwatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = count_pings(engine, monkeypatch)
    first = await backend_pid(engine)  # a new connection has just answered: no ping
    monotonic.now += 4.9
    assert await backend_pid(engine) == first
    assert pings == []


async def test_a_connection_idle_a_while_is_pinged_once_then_not_again(
    engine: AsyncEngine, monotonic: Stopwatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = count_pings(engine, monkeypatch)
    first = await backend_pid(engine)
    monotonic.now += 5.0
    assert await backend_pid(engine) == first
    assert len(pings) == 1
    assert await backend_pid(engine) == first
    assert len(pings) == 1


async def test_a_connection_the_server_dropped_while_idle_is_replaced_before_use(
    engine: AsyncEngine, database_url: str, monotonic: Stopwatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = count_pings(engine, monkeypatch)
    dropped = await backend_pid(engine)
    await terminate(database_url, dropped)
    monotonic.now += 60
    replaced = await backend_pid(engine)  # no error: the ping found it dead
    assert replaced != dropped
    assert len(pings) == 1


async def test_one_dropped_within_the_moment_fails_once_and_the_pool_recovers(
    engine: AsyncEngine, database_url: str, monotonic: Stopwatch
) -> None:
    """The trade-off, pinned: like a statement in flight when the server goes, the next use
    fails; the disconnect recycles the pool, so the one after that succeeds."""
    dropped = await backend_pid(engine)
    await terminate(database_url, dropped)
    monotonic.now += 1
    with pytest.raises(exc.DBAPIError) as failed:
        await backend_pid(engine)
    assert failed.value.connection_invalidated
    assert await backend_pid(engine) != dropped


async def test_the_service_database_pings_no_connection_in_use_all_the_time(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Transactions one after another (a reminder round, a burst of turns) send no ping: the
    pool hands back the connection last returned, moments ago."""
    db = Database(database_url)
    try:
        pings = count_pings(db.engine, monkeypatch)
        for _ in range(5):
            async with db.transaction() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            async with db.read() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        assert pings == []
    finally:
        await db.dispose()


async def backends(db: Database, count: int) -> list[int]:
    """The server pids of ``count`` of the pool's connections, held at once and returned."""
    async with AsyncExitStack() as stack:
        pids = []
        for _ in range(count):
            session = await stack.enter_async_context(db.transaction())
            pids.append((await session.exec(text("SELECT pg_backend_pid()"))).one()[0])  # type: ignore[call-overload]
    return pids


async def test_a_server_gone_a_moment_ago_costs_one_transaction_not_one_per_connection(
    database_url: str,
) -> None:
    """Every pooled connection dropped (a restart) just after use: the next transaction, whose
    first statement goes straight to the driver (direct_sql), fails as unavailable (the
    webhook's 503); the pool is recycled by it, so two at once then both succeed anew."""
    db = Database(database_url)
    try:
        dropped = await backends(db, 2)
        for pid in dropped:
            await terminate(database_url, pid)
        with pytest.raises(exc.DBAPIError) as failed:
            async with db.transaction() as session:
                await execute(session, STOP, {"hash": "nobody"})
        assert failed.value.connection_invalidated
        assert is_unavailable(failed.value)
        assert not set(await backends(db, 2)) & set(dropped)
    finally:
        await db.dispose()
