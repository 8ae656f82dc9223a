"""A ledger event is on disk before any message about it is sent: read back from the app's connections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from consentbot import keys
from consentbot.app import create_app
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.database import Database
from tests.conftest import AppClient


@contextmanager
def server_default_synchronous_commit_off(url: str) -> Iterator[None]:
    """Make the database's own default unsafe, so only the app's setting can make it safe."""
    parsed = make_url(url)
    dsn = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{parsed.database}" SET synchronous_commit = off')
    try:
        yield
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{parsed.database}" RESET synchronous_commit')


async def read_back(db: Database, statement: str) -> list[str]:
    """The setting as a write transaction and a read-only one each see it."""
    values = []
    async with db.transaction() as session:
        values.append(str((await session.exec(text(statement))).one()[0]))  # type: ignore[call-overload]
    async with db.read() as session:
        values.append(str((await session.exec(text(statement))).one()[0]))  # type: ignore[call-overload]
    return values


async def test_commits_wait_for_the_disk(
    settings: Settings, clock: ManualClock, aiohttp_client: Callable[..., Awaitable[AppClient]]
) -> None:
    if settings.is_embedded:
        client = await aiohttp_client(create_app(settings, clock=clock, run_background=False))
        db = client.app[keys.DATABASE]
        assert await read_back(db, "PRAGMA journal_mode") == ["wal", "wal"]
        assert await read_back(db, "PRAGMA synchronous") == ["2", "2"]  # FULL, not NORMAL (1)
        return
    with server_default_synchronous_commit_off(settings.database_url):
        bare = create_async_engine(settings.database_url)
        try:
            async with bare.connect() as connection:
                default = (await connection.exec_driver_sql("SHOW synchronous_commit")).scalar()
        finally:
            await bare.dispose()
        assert default == "off", "the check below would prove nothing"
        client = await aiohttp_client(create_app(settings, clock=clock, run_background=False))
        assert await read_back(client.app[keys.DATABASE], "SHOW synchronous_commit") == ["on", "on"]
