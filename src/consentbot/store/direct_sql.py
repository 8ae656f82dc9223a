"""Run the hot path's prebuilt Core statements on SQLite's own connection.

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

Everything else goes through SQLAlchemy as before: PostgreSQL (asyncpg keeps its own
prepared statements and has no thread to save), SQLite outside a write transaction (a
read goes to aiosqlite's thread, so a large one never stops the loop), and statements
this module does not handle (Python-side column defaults, several rows with RETURNING).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import ValuesBase
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.sqlite_driver import OneTripConnection

Processor = Callable[[Any], Any]
Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a statement returned: its rows (plain tuples when run here, SQLAlchemy's rows
    when not: both unpack alike) and how many rows it touched."""

    rows: Sequence[Any]
    rowcount: int


_REQUIRED = object()
"""A parameter the caller must give (the statement holds no value of its own)."""


@dataclass(frozen=True, slots=True)
class _Slot:
    """Where one of the driver's positional values comes from."""

    name: str
    """The caller's parameter."""
    index: int | None
    """Its item, for a list expanded into ``IN (...)``."""
    default: Any
    """The statement's own value (a literal in it), or ``_REQUIRED``."""
    process: Processor | None
    """The column type's bind processor."""


@dataclass(frozen=True, slots=True)
class _Form:
    """The SQL the driver gets, and where each of its values comes from."""

    sql: str
    slots: tuple[_Slot, ...]


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A statement compiled once for SQLite, with what each execution needs."""

    compiled: SQLCompiler
    form: _Form | None
    """The statement's one form, where no parameter is a list; None otherwise, or where
    values must be found as SQLAlchemy does (a value computed at execution)."""
    expanding: tuple[str, ...]
    """The parameters that are lists (``IN``): the SQL has one form per their lengths."""
    forms: dict[tuple[int, ...], _Form | None]
    """Those forms, by the lists' lengths, made as each is first needed."""
    returning: bool
    results: tuple[tuple[int, Processor], ...]
    """The result columns that have one, by position: how SQLAlchemy would turn the
    stored value back."""
    returns_rows: bool


_FORMS = "_consentbot_direct_sql"
"""The attribute holding a statement's prepared forms (see :func:`_prepared`)."""


def _prepare(
    statement: Executable, dialect: Dialect, columns: tuple[str, ...] | None
) -> _Prepared | None:
    assert isinstance(statement, ClauseElement)
    # Compiled as for several rows at once: no RETURNING added to fetch a new row's key,
    # which nothing here reads. A statement that wants values back says so with
    # .returning(), and is compiled as for one row (the form for several is SQLAlchemy's
    # own batching, not SQL to send as it is).
    compiled = statement.compile(dialect=dialect, column_keys=columns, for_executemany=True)
    assert isinstance(compiled, SQLCompiler)
    if compiled.effective_returning:
        compiled = statement.compile(dialect=dialect, column_keys=columns)
        assert isinstance(compiled, SQLCompiler)
    if compiled.insert_prefetch or compiled.update_prefetch or not compiled.positional:
        return None  # Python-side defaults to compute: SQLAlchemy's execution context does it
    processors = [
        column.type._cached_result_processor(dialect, None) for column in compiled._result_columns
    ]
    results = tuple((index, process) for index, process in enumerate(processors) if process)
    late = compiled.literal_execute_params or compiled.post_compile_params
    order = compiled.positiontup
    form = None
    if not late and order is not None:
        slots = _slots(compiled, order, compiled._bind_processors, {})
        form = None if slots is None else _Form(compiled.string, slots)
    lists = compiled.post_compile_params
    # A list given in the statement itself (not by the caller) is left to SQLAlchemy.
    by_caller = not compiled.literal_execute_params and all(bind.required for bind in lists)
    return _Prepared(
        compiled,
        form=form,
        expanding=tuple(sorted(bind.key for bind in lists)) if by_caller else (),
        forms={},
        returning=bool(compiled.effective_returning),
        results=results,
        returns_rows=bool(processors),
    )


def _slots(
    compiled: SQLCompiler,
    order: Sequence[str],
    processors: Mapping[str, Any],
    items: Mapping[str, tuple[str, int]],
) -> tuple[_Slot, ...] | None:
    """Where each value in ``order`` comes from; ``items`` gives the expanded names' lists
    and places. None where a value is computed at execution (SQLAlchemy finds those)."""
    slots = []
    for name in order:
        if name in items:
            key, index = items[name]
            slots.append(_Slot(key, index, _REQUIRED, processors.get(name)))
            continue
        bind = compiled.binds.get(name)
        if bind is None or bind.callable is not None:
            return None
        default = _REQUIRED if bind.required else bind.value
        slots.append(_Slot(bind.key, None, default, processors.get(name)))
    return tuple(slots)


def _expanded_form(prepared: _Prepared, params: Params) -> _Form | None:
    """The form of an ``IN (...)`` statement for lists of these lengths."""
    lengths = tuple(len(params[name]) for name in prepared.expanding)
    try:
        return prepared.forms[lengths]
    except KeyError:
        pass
    compiled = prepared.compiled
    expanded = compiled.construct_expanded_state(params)
    items = {
        item: (compiled.binds[name].key, index)
        for name, names in expanded.parameter_expansion.items()
        for index, item in enumerate(names)
    }
    expected = sum(lengths)
    form = None
    if expanded.positiontup is not None and len(items) == expected:
        processors = {**compiled._bind_processors, **expanded.processors}
        slots = _slots(compiled, expanded.positiontup, processors, items)
        form = None if slots is None else _Form(expanded.statement, slots)
    prepared.forms[lengths] = form
    return form


def _prepared(statement: Executable, dialect: Dialect, params: Params) -> _Prepared | None:
    """The statement's prepared form, kept on the statement itself: it lives as long as the
    statement does. Statements on the hot path are built once, at import; one built per
    call is compiled per call (correct, but slower than SQLAlchemy's cached path).

    A statement derived from this one (``.where(...)``) starts as a copy of its attributes,
    so the forms are stored with the id of the statement they belong to, and a copy's are
    ignored.
    """
    # An INSERT or UPDATE without values of its own sets the columns its parameters name,
    # as SQLAlchemy compiles it: one compiled form per set of names.
    columns = tuple(params) if isinstance(statement, ValuesBase) else None
    owner, forms = statement.__dict__.get(_FORMS, (None, None))
    if owner != id(statement) or forms is None:
        forms = {}
        setattr(statement, _FORMS, (id(statement), forms))
    key = (dialect.name, columns)
    try:
        return forms[key]  # type: ignore[no-any-return]
    except KeyError:
        prepared = forms[key] = _prepare(statement, dialect, columns)
        return prepared


def _bound(prepared: _Prepared, params: Params) -> tuple[str, tuple[Any, ...]]:
    """The SQL and its positional values, as SQLAlchemy would send them."""
    form = _expanded_form(prepared, params) if prepared.expanding else prepared.form
    if form is None:
        return _bound_as_sqlalchemy(prepared.compiled, params)
    values = []
    for slot in form.slots:
        if slot.index is not None:
            value = params[slot.name][slot.index]
        else:
            value = params.get(slot.name, slot.default)
            if value is _REQUIRED:
                raise exc.InvalidRequestError(
                    f"A value is required for bind parameter {slot.name!r}"
                )
        values.append(value if slot.process is None else slot.process(value))
    return form.sql, tuple(values)


def _bound_as_sqlalchemy(compiled: SQLCompiler, params: Params) -> tuple[str, tuple[Any, ...]]:
    """:func:`_bound` by SQLAlchemy's own steps, for the statements it has no form for."""
    processors: Mapping[str, Any] = compiled._bind_processors
    if compiled.literal_execute_params or compiled.post_compile_params:
        expanded = compiled.construct_expanded_state(params)
        sql, order, values = expanded.statement, expanded.positiontup, expanded.parameters
        processors = {**processors, **expanded.processors}
    else:
        sql, order = compiled.string, compiled.positiontup
        values = compiled.construct_params(params, escape_names=False)
    assert order is not None
    return sql, tuple(
        processors[name](values[name]) if name in processors else values[name] for name in order
    )


async def execute(
    session: AsyncSession, statement: Executable, params: Params | Sequence[Params]
) -> Outcome:
    """Run ``statement`` with ``params`` (a list of them: once per item) in the session's
    transaction; its rows as plain tuples."""
    sync = held_connection(session) or (await session.connection()).sync_connection
    assert sync is not None
    dbapi = sync.connection.dbapi_connection
    many = not isinstance(params, Mapping)
    first = params if isinstance(params, Mapping) else params[0]
    if isinstance(dbapi, OneTripConnection) and dbapi.in_write_transaction:
        prepared = _prepared(statement, sync.dialect, first)
        if prepared is not None and not (many and (prepared.expanding or prepared.returning)):
            return _run(sync, dbapi, prepared, params)
    elif sync.dialect.driver == "asyncpg" and await _asyncpg_transaction(sync):
        prepared = _prepared(statement, sync.dialect, first)
        if prepared is not None and not (many and (prepared.expanding or prepared.returning)):
            return await _run_asyncpg(sync, prepared, params)
    connection = await session.connection()
    result = await connection.execute(statement, params)
    rows = result.all() if result.returns_rows else []
    return Outcome(rows, result.rowcount)


def held_connection(session: AsyncSession) -> Connection | None:
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
    prepared: _Prepared,
    params: Params | Sequence[Params],
) -> Outcome:
    if isinstance(params, Mapping):
        sql, values = _bound(prepared, params)
        sent: Any = values
    else:
        bound = [_bound(prepared, each) for each in params]
        sql = bound[0][0] if bound else prepared.compiled.string
        sent = [values for _, values in bound]
    fetched, rowcount = _send(sync, dbapi, sql, sent, many=not isinstance(params, Mapping))
    return Outcome(_processed(prepared, fetched), rowcount)


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
                await adapted._start_transaction()
    return bool(driver.is_in_transaction())


async def _run_asyncpg(
    sync: Connection, prepared: _Prepared, params: Params | Sequence[Params]
) -> Outcome:
    """:func:`_run` on asyncpg, whose own cache prepares each statement once per connection."""
    many = not isinstance(params, Mapping)
    sent: Any
    if isinstance(params, Mapping):
        sql, sent = _bound(prepared, params)
    else:
        bound = [_bound(prepared, each) for each in params]
        sql = bound[0][0] if bound else prepared.compiled.string
        sent = [values for _, values in bound]
    if sync.dispatch.before_cursor_execute:
        sync.dispatch.before_cursor_execute(sync, None, sql, sent, None, many)
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
        lost = sync.dialect.is_disconnect(error, adapted, None)
        if lost:
            sync.invalidate(error)
        raise exc.DBAPIError.instance(
            sql, sent, error, dbapi.Error, connection_invalidated=lost, dialect=sync.dialect
        ) from error
    return Outcome(_processed(prepared, [tuple(record) for record in fetched]), rowcount)


def _processed(prepared: _Prepared, fetched: list[Any]) -> list[Any]:
    """The rows, each value through its column type's result processor."""
    results = prepared.results
    if not fetched or not results:
        return fetched
    rows = []
    for row in fetched:
        values = list(row)
        for index, process in results:
            values[index] = process(values[index])
        rows.append(tuple(values))
    return rows


def _send(
    sync: Connection, dbapi: OneTripConnection, sql: str, sent: Any, *, many: bool
) -> tuple[list[Any], int]:
    """Execute on the sqlite3 connection; the rows fetched and the row count."""
    if sync.dispatch.before_cursor_execute:
        # What tests and tools listen to: every statement the driver gets.
        sync.dispatch.before_cursor_execute(sync, None, sql, sent, None, many)
    connection: sqlite3.Connection = dbapi._connection._conn
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, sent)
        else:
            cursor.execute(sql, sent)
        return (cursor.fetchall() if cursor.description else []), cursor.rowcount
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance(
            sql, sent, error, sqlite3.Error, dialect=sync.dialect
        ) from error
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
