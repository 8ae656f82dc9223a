"""Run the hot path's prebuilt Core statements on the driver's own connection.

Inside a write transaction on SQLite a statement already runs on the event loop's thread
(:mod:`consentbot.store.sqlite_driver`), and SQLite runs most of a turn's in 10-90 µs.
Sent through SQLAlchemy's connection, each still cost about 75 µs more of Python: the
greenlet hop, the compiled cache's look-up, an execution context, a result object. A
turn sends about ten.

:func:`execute` compiles each statement once for the dialect and then does only what a
statement needs every time: its parameters in order, each through its column type's bind
processor (so the row is stored exactly as SQLAlchemy would store it), the driver's
execute and fetch, and each value back through its result processor. Listeners of
``before_cursor_execute`` still see every statement; the driver's errors reach the
caller as SQLAlchemy's (``IntegrityError``...), as they would have.

On PostgreSQL, statements go to asyncpg in the same way once SQLAlchemy's transaction is
under way there (its adapter begins it lazily: :func:`_asyncpg_transaction` takes that
step where one of ours comes first), and asyncpg's cache prepares each once per
connection. Everything else goes through SQLAlchemy as before: SQLite outside a write
transaction (a read goes to aiosqlite's thread, so a large one never stops the loop), an
autocommit connection, and statements this module does not handle (Python-side column
defaults, several rows with RETURNING). Errors carry no parameter values where the
engine hides them (``hide_parameters``): they may be message texts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import Executable
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.sqlite_driver import OneTripConnection
from consentbot.store.statement_forms import (
    Params,
    Prepared,
    bound_all,
    prepared_form,
    processed,
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a statement returned: its rows (plain tuples when run here, SQLAlchemy's rows
    when not: both unpack alike) and how many rows it touched."""

    rows: Sequence[Any]
    rowcount: int


async def execute(
    session: AsyncSession, statement: Executable, params: Params | Sequence[Params]
) -> Outcome:
    """Run ``statement`` with ``params`` (a list of them: once per item) in the session's
    transaction; its rows as plain tuples."""
    sync = _held_connection(session) or (await session.connection()).sync_connection
    assert sync is not None
    dbapi = sync.connection.dbapi_connection
    many = not isinstance(params, Mapping)
    first = params if isinstance(params, Mapping) else params[0]
    if isinstance(dbapi, OneTripConnection) and dbapi.in_write_transaction:
        prepared = prepared_form(statement, sync.dialect, first)
        if prepared is not None and not (many and (prepared.expanding or prepared.returning)):
            return _run(sync, dbapi, prepared, params)
    elif sync.dialect.driver == "asyncpg" and await _asyncpg_transaction(sync):
        prepared = prepared_form(statement, sync.dialect, first)
        if prepared is not None and not (many and (prepared.expanding or prepared.returning)):
            return await _run_asyncpg(sync, prepared, params)
    connection = await session.connection()
    result = await connection.execute(statement, params)
    rows = result.all() if result.returns_rows else []
    return Outcome(rows, result.rowcount)


def _held_connection(session: AsyncSession) -> Connection | None:
    """The connection the session's innermost transaction (a savepoint, if one is open)
    holds already; None if it holds none yet.

    ``await session.connection()`` returns the same, but costs a trip through SQLAlchemy's
    greenlet (about 12 µs) each time. A savepoint that has not used a connection yet has
    not sent its SAVEPOINT either, so it holds none: then only ``session.connection()``
    may be used, since it sends the SAVEPOINT first.
    """
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    if transaction is None or not transaction.is_active:
        return None
    try:
        return transaction.bound_connection()
    except exc.InvalidRequestError:
        return None


def _run(
    sync: Connection,
    dbapi: OneTripConnection,
    prepared: Prepared,
    params: Params | Sequence[Params],
) -> Outcome:
    sql, sent, many = bound_all(prepared, params)
    fetched, rowcount = _send(sync, dbapi, sql, sent, many=many)
    return Outcome(processed(prepared, fetched), rowcount)


async def _asyncpg_transaction(sync: Connection) -> bool:
    """Whether the transaction SQLAlchemy opened is under way on asyncpg's connection.

    SQLAlchemy's adapter begins it only with the transaction's first statement: where
    that is one of ours, it is begun here the same way (the adapter's own step, with the
    isolation it was given). An autocommit connection has none: its statements go
    through SQLAlchemy.
    """
    driver = sync.connection.driver_connection
    if driver is None or not sync.in_transaction():
        return False
    if not driver.is_in_transaction():
        adapted: Any = sync.connection.dbapi_connection
        async with adapted._execute_mutex:
            if adapted._transaction is None:
                try:
                    await adapted._start_transaction()  # raises the DB-API's error
                except sync.dialect.loaded_dbapi.Error as error:
                    # A connection that died in the pool fails here first.
                    raise _lost_or_failed(sync, "BEGIN", (), error) from error
    return bool(driver.is_in_transaction())


async def _run_asyncpg(
    sync: Connection, prepared: Prepared, params: Params | Sequence[Params]
) -> Outcome:
    """:func:`_run` on asyncpg, whose own cache prepares each statement once per connection."""
    sql, sent, many = bound_all(prepared, params)
    _announce(sync, sql, sent, many)
    driver = sync.connection.driver_connection
    adapted = sync.connection.dbapi_connection
    dbapi = sync.dialect.loaded_dbapi
    assert driver is not None
    assert adapted is not None
    fetched: list[Any] = []
    try:
        try:
            if many:
                await driver.executemany(sql, sent)
                rowcount = -1
            elif prepared.returns_rows:
                fetched = await driver.fetch(sql, *sent)
                rowcount = len(fetched)
            else:
                status = await driver.execute(sql, *sent)
                rowcount = int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else -1
        except Exception as error:
            adapted._handle_exception(error)  # raises it as the DB-API's error
            raise
    except dbapi.Error as error:
        raise _lost_or_failed(sync, sql, sent, error) from error
    return Outcome(processed(prepared, [tuple(record) for record in fetched]), rowcount)


def _lost_or_failed(sync: Connection, sql: str, sent: Any, error: Any) -> exc.StatementError:
    """The asyncpg adapter's ``error`` as SQLAlchemy raises it. A lost connection is
    invalidated first, with the pool's others (as SQLAlchemy's own handler does): the server
    went away, so they are recycled rather than each failing in turn."""
    lost = sync.dialect.is_disconnect(error, sync.connection.dbapi_connection, None)
    if lost:
        sync.engine.pool._invalidate(sync.connection, error)
        sync.invalidate(error)
    return _as_sqlalchemys(sync, sql, sent, error, sync.dialect.loaded_dbapi.Error, lost=lost)


def _as_sqlalchemys(
    sync: Connection,
    sql: str,
    sent: Any,
    error: Exception,
    base: type[Exception],
    *,
    lost: bool = False,
) -> exc.StatementError:
    """The driver's ``error`` as SQLAlchemy raises it (``IntegrityError``...), quoting no
    parameters where the engine hides them: they may be message texts."""
    return exc.DBAPIError.instance(
        sql,
        sent,
        error,
        base,
        hide_parameters=sync.engine.hide_parameters,
        connection_invalidated=lost,
        dialect=sync.dialect,
    )


def _announce(sync: Connection, sql: str, sent: Any, many: bool) -> None:
    """Tell ``before_cursor_execute`` listeners (tests, tools): they see every statement
    the driver gets, as they do through SQLAlchemy."""
    if sync.dispatch.before_cursor_execute:
        sync.dispatch.before_cursor_execute(sync, None, sql, sent, None, many)


def _send(
    sync: Connection, dbapi: OneTripConnection, sql: str, sent: Any, *, many: bool
) -> tuple[list[Any], int]:
    """Execute on the sqlite3 connection; the rows fetched and the row count."""
    _announce(sync, sql, sent, many)
    connection: sqlite3.Connection = dbapi._connection._conn
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, sent)
        else:
            cursor.execute(sql, sent)
        return (cursor.fetchall() if cursor.description else []), cursor.rowcount
    except sqlite3.Error as error:
        raise _as_sqlalchemys(sync, sql, sent, error, sqlite3.Error) from error
    finally:
        cursor.close()


_SAVEPOINTS = {
    "do_savepoint": "SAVEPOINT",
    "do_release_savepoint": "RELEASE SAVEPOINT",
    "do_rollback_to_savepoint": "ROLLBACK TO SAVEPOINT",
}


def direct_savepoints(dialect: Dialect) -> None:
    """Have ``dialect`` (SQLite's, one engine's) send its savepoint statements straight to
    the driver inside a write transaction.

    Each grouped turn opens and releases a savepoint
    (:mod:`~consentbot.store.group_commit`): through SQLAlchemy's execute, the two cost
    more than any other statement of the turn. SQLAlchemy still decides when each is sent
    and names it; only how it reaches SQLite changes, as for :func:`execute`.
    """
    for method, verb in _SAVEPOINTS.items():
        setattr(dialect, method, _direct_savepoint(getattr(dialect, method), verb, dialect))


def _direct_savepoint(
    through_sqlalchemy: Callable[[Connection, str], None], verb: str, dialect: Dialect
) -> Callable[[Connection, str], None]:
    def run(connection: Connection, name: str) -> None:
        dbapi = connection.connection.dbapi_connection
        if isinstance(dbapi, OneTripConnection) and dbapi.in_write_transaction:
            sql = f"{verb} {dialect.identifier_preparer.format_savepoint(None, name)}"
            _send(connection, dbapi, sql, (), many=False)
        else:
            through_sqlalchemy(connection, name)

    return run
