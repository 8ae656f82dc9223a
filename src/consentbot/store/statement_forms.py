"""Prebuilt statements compiled once, with where each value they send comes from.

SQLAlchemy binds a statement's parameters afresh on every execution (its
``construct_params``, and for ``IN`` lists a rendering of the SQL per execution): for a
turn's short statements that cost as much as SQLite took to run them. A statement's
*form* is made once (per list length for ``IN``): its SQL and, for each positional value,
the caller's parameter or list item, or the statement's own literal, and the column
type's bind processor. :func:`bound` fills it in; :func:`processed` turns fetched values
back as SQLAlchemy would. Values computed at execution, and lists written in the
statement itself, are bound by SQLAlchemy's own steps.

The forms live on the statement object, marked with its id: they last as long as the
statement, and a statement derived from it (which copies its attributes) makes its own.
Used by :mod:`~consentbot.store.direct_sql`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import ValuesBase

Processor = Callable[[Any], Any]
Params = Mapping[str, Any]


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
class Prepared:
    """A statement compiled once for a dialect, with what each execution needs."""

    compiled: SQLCompiler
    form: _Form | None
    """The statement's one form, where no parameter is a list; None otherwise, or where
    values must be found as SQLAlchemy does (a value computed at execution)."""
    expanding: tuple[str, ...]
    """The caller's parameters that are lists (``IN``): the SQL has one form per their
    lengths."""
    own_lists: tuple[str, ...]
    """The lists written in the statement itself (``.in_(CONSTANTS)``): their length is
    fixed, so each is part of every form, value by value."""
    forms: dict[tuple[int, ...], _Form | None]
    """The forms of a statement with lists, by the caller's lists' lengths, made as each
    is first needed."""
    returning: bool
    results: tuple[tuple[int, Processor], ...]
    """The result columns that have one, by position: how SQLAlchemy would turn the
    stored value back."""
    returns_rows: bool


_FORMS = "_consentbot_direct_sql"
"""The attribute holding a statement's prepared forms (see :func:`prepared_form`)."""


def _prepare(
    statement: Executable, dialect: Dialect, columns: tuple[str, ...] | None
) -> Prepared | None:
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
    lists = () if compiled.literal_execute_params else compiled.post_compile_params
    return Prepared(
        compiled,
        form=form,
        expanding=tuple(sorted(bind.key for bind in lists if bind.required)),
        own_lists=tuple(sorted(bind.key for bind in lists if not bind.required)),
        forms={},
        returning=bool(compiled.effective_returning),
        results=results,
        returns_rows=bool(processors),
    )


def _slots(
    compiled: SQLCompiler,
    order: Sequence[str],
    processors: Mapping[str, Any],
    items: Mapping[str, tuple[str, int, Any]],
) -> tuple[_Slot, ...] | None:
    """Where each value in ``order`` comes from; ``items`` gives the expanded names' lists,
    places, and values where the statement holds them (else ``_REQUIRED``). None where a
    value is computed at execution (SQLAlchemy finds those)."""
    slots = []
    for name in order:
        if name in items:
            key, index, value = items[name]
            if value is _REQUIRED:
                slots.append(_Slot(key, index, _REQUIRED, processors.get(name)))
            else:  # the statement's own item: under a name no caller gives, so it is fixed
                slots.append(_Slot(name, None, value, processors.get(name)))
            continue
        bind = compiled.binds.get(name)
        if bind is None or bind.callable is not None:
            return None
        default = _REQUIRED if bind.required else bind.value
        slots.append(_Slot(bind.key, None, default, processors.get(name)))
    return tuple(slots)


def _expanded_form(prepared: Prepared, params: Params) -> _Form | None:
    """The form of an ``IN (...)`` statement for lists of these lengths."""
    lengths = tuple(len(params[name]) for name in prepared.expanding)
    try:
        return prepared.forms[lengths]
    except KeyError:
        pass
    compiled = prepared.compiled
    expanded = compiled.construct_expanded_state(params)
    items: dict[str, tuple[str, int, Any]] = {}
    for name, names in expanded.parameter_expansion.items():
        bind = compiled.binds[name]
        values: Sequence[Any] | None = None if bind.required else bind.value
        for index, item in enumerate(names):
            items[item] = (bind.key, index, _REQUIRED if values is None else values[index])
    own = [len(b.value or ()) for b in compiled.post_compile_params if not b.required]
    expected = sum(lengths) + sum(own)
    form = None
    if expanded.positiontup is not None and len(items) == expected:
        processors = {**compiled._bind_processors, **expanded.processors}
        slots = _slots(compiled, expanded.positiontup, processors, items)
        form = None if slots is None else _Form(expanded.statement, slots)
    prepared.forms[lengths] = form
    return form


def prepared_form(statement: Executable, dialect: Dialect, params: Params) -> Prepared | None:
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


def bound(prepared: Prepared, params: Params) -> tuple[str, tuple[Any, ...]]:
    """The SQL and its positional values, as SQLAlchemy would send them."""
    if prepared.own_lists and not params.keys().isdisjoint(prepared.own_lists):
        # The caller replaces a list the statement holds: SQLAlchemy's steps, and no form
        # kept, since a form holds the statement's own values.
        form = None
    elif prepared.expanding or prepared.own_lists:
        form = _expanded_form(prepared, params)
    else:
        form = prepared.form
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
    """:func:`bound` by SQLAlchemy's own steps, for the statements it has no form for."""
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


def processed(prepared: Prepared, fetched: list[Any]) -> list[Any]:
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


def bound_all(prepared: Prepared, params: Params | Sequence[Params]) -> tuple[str, Any, bool]:
    """The SQL, what the driver gets with it (one row of values, or a list of rows), and
    whether it is several rows."""
    if isinstance(params, Mapping):
        sql, values = bound(prepared, params)
        return sql, values, False
    rows = [bound(prepared, each) for each in params]
    sql = rows[0][0] if rows else prepared.compiled.string
    return sql, [values for _, values in rows], True
