"""Database errors: which ones mean "unavailable, try again", and how to log one safely.

A driver's error can quote what it was given: SQLAlchemy appends the statement's
parameters (hidden by ``hide_parameters``), asyncpg quotes a value it could not
encode, and PostgreSQL's DETAIL repeats a failing row ("Failing row contains
(..., the message text, ...)"). So a database error is logged by its types,
SQLSTATE and stack only, never by its message.
"""

from __future__ import annotations

import sqlite3
import sys
import traceback
from collections.abc import Iterator
from types import TracebackType

from sqlalchemy import exc as sa

DRIVER_PACKAGES = frozenset(
    {"sqlalchemy", "sqlmodel", "asyncpg", "aiosqlite", "psycopg", "sqlite3"}
)
"""Packages whose exceptions may carry statement values."""

_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "disk i/o error",
    "unable to open database file",
    "readonly database",
    "database or disk is full",
    "locking protocol",
)
"""SQLite OperationalError messages that say the file cannot be used now (unlike "no such table")."""

_POSTGRES_UNAVAILABLE = ("08", "53", "57", "58")
"""SQLSTATE classes: connection exception, insufficient resources, operator intervention
(shutdown, cannot connect now, statement cancelled), system error."""


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception it was raised from or while handling, each once."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _package(module: str | None) -> str:
    return (module or "").partition(".")[0]


def is_database_error(error: BaseException) -> bool:
    """True when ``error`` or anything in its chain comes from a database driver."""
    return any(
        _package(type(item).__module__) in DRIVER_PACKAGES for item in exception_chain(error)
    )


def _sqlstate(error: BaseException) -> str | None:
    value = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return value if isinstance(value, str) and value else None


def _raised_by_driver(error: BaseException) -> bool:
    """Whether the innermost frame outside the standard library belongs to a database driver.

    A refused or reset connection surfaces as a bare OSError from asyncio's sockets,
    called by asyncpg; the same OSError from an HTTP client is not the database's.
    """
    frames: list[str] = []
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        frames.append(_package(tb.tb_frame.f_globals.get("__name__")))
        tb = tb.tb_next
    for package in reversed(frames):
        if package in sys.stdlib_module_names:
            continue
        return package in DRIVER_PACKAGES
    return False


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa.TimeoutError | sa.DisconnectionError):
        return True  # no pooled connection in time; a connection lost
    if isinstance(error, sa.InterfaceError) and not isinstance(error.orig, sqlite3.Error):
        return True  # asyncpg: the connection is closed (SQLite's is a binding bug)
    if isinstance(error, sqlite3.OperationalError):
        return any(phrase in str(error).lower() for phrase in _SQLITE_UNAVAILABLE)
    if isinstance(error, sa.OperationalError) and not isinstance(error.orig, sqlite3.Error):
        return True  # PostgreSQL drivers raise it for connection and server-state failures
    if (state := _sqlstate(error)) is not None:
        return state.startswith(_POSTGRES_UNAVAILABLE)
    if (
        _package(type(error).__module__) == "asyncpg"
        and "connection" in type(error).__name__.lower()
    ):
        return True  # ConnectionDoesNotExistError and friends: no SQLSTATE, the link is gone
    if isinstance(error, OSError):  # refused, reset, unreachable, timed out
        return _raised_by_driver(error)
    return False


def is_unavailable(error: BaseException) -> bool:
    """True when the database cannot be used right now, so trying again later may work.

    Lost or refused connections (PostgreSQL down, restarting, unreachable, out of
    connections), and an SQLite file that is locked, unreadable or on a failing disk.
    A query the database rejects (a constraint, a missing table) is not unavailability.
    """
    return any(_unavailable(item) for item in exception_chain(error))


def describe(error: BaseException) -> str:
    """The chain's types (with SQLSTATE or SQLite error name): what to log instead of the message.

    e.g. ``sqlalchemy.exc.IntegrityError <- asyncpg.exceptions.NotNullViolationError [23502]``.
    """
    parts = []
    for item in exception_chain(error):
        name = f"{type(item).__module__}.{type(item).__qualname__}"
        code = _sqlstate(item) or getattr(item, "sqlite_errorname", None)
        parts.append(f"{name} [{code}]" if code else name)
    return " <- ".join(parts)


def safe_traceback(error: BaseException) -> str:
    """A traceback of ``error`` in which database errors show their type but no message.

    Stack frames show code, never values, so they stay. Oldest exception first, as Python prints.
    """
    blocks = []
    for item in reversed(list(exception_chain(error))):
        stack = "".join(traceback.format_tb(item.__traceback__))
        if _package(type(item).__module__) in DRIVER_PACKAGES:
            code = _sqlstate(item) or getattr(item, "sqlite_errorname", None)
            headline = f"{type(item).__module__}.{type(item).__qualname__}"
            headline += f" [{code}] (message withheld)" if code else " (message withheld)"
        else:
            headline = "".join(traceback.format_exception_only(item)).rstrip()
        blocks.append(f"Traceback (most recent call last):\n{stack}{headline}")
    return "\n\nThe above led to:\n\n".join(blocks)
