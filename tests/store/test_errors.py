"""Which database errors mean "unavailable, retry", and what is logged of one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from consentbot.store.database import Database
from consentbot.store.errors import describe, is_database_error, is_unavailable, safe_traceback
from tests.support.databases import aiosqlite_threads_finished

SECRET_WORDS = "my private words about my knees"


async def failure(url: str, statement: str = "SELECT 1", **params: str) -> BaseException:
    db = Database(url)
    try:
        async with db.transaction() as session:
            await session.exec(text(statement), params=params)  # type: ignore[call-overload]
    except Exception as error:
        return error
    finally:
        await db.dispose()
        await aiosqlite_threads_finished()
    raise AssertionError("the statement should have failed")


async def test_a_refused_postgresql_connection_is_unavailability() -> None:
    error = await failure("postgresql+asyncpg://consentbot@127.0.0.1:1/nothing")
    assert isinstance(error, OSError)  # asyncpg lets the socket's error through as it is
    assert is_unavailable(error)


async def test_an_sqlite_file_that_cannot_be_opened_is_unavailability(tmp_path: Path) -> None:
    error = await failure(f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'consentbot.db'}")
    assert is_unavailable(error)
    assert "[SQLITE_CANTOPEN]" in describe(error)


async def test_a_rejected_statement_is_not_unavailability(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'consentbot.db'}"
    missing_table = await failure(url, "INSERT INTO nothing VALUES (:words)", words=SECRET_WORDS)
    assert is_database_error(missing_table)
    assert not is_unavailable(missing_table)
    assert SECRET_WORDS not in describe(missing_table) + safe_traceback(missing_table)
    assert "sqlalchemy.exc.OperationalError" in describe(missing_table)


@pytest.mark.parametrize(
    ("message", "unavailable"),
    [
        ("database is locked", True),
        ("disk I/O error", True),
        ("attempt to write a readonly database", True),
        ("no such table: outbox", False),
    ],
)
def test_sqlite_operational_errors_by_message(message: str, unavailable: bool) -> None:
    assert is_unavailable(sqlite3.OperationalError(message)) is unavailable


def test_an_oserror_from_elsewhere_is_not_the_database() -> None:
    with pytest.raises(ConnectionRefusedError) as raised:
        raise ConnectionRefusedError("an HTTP call failed")
    assert not is_unavailable(raised.value)
    assert not is_database_error(raised.value)
