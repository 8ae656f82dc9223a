"""Rows read by a Core statement, held by the session as if its own query had loaded them.

An ORM query of one contact or a number's participants cost a turn 120-200 µs of
SQLAlchemy's Python, for a statement SQLite runs in tens. The rows a turn changes must
still be the session's (it writes them with :func:`~consentbot.store.row_writes.write_changes`,
or its flush does), so :func:`load` reads them by a prebuilt Core statement (run by
:mod:`~consentbot.store.direct_sql`) and makes each into a persistent instance as a
query's loading does (its identity key, its session, the identity map), without the
query's compile state, result machinery and per-row bookkeeping.

As with a query, a row the session holds already is returned as it is (its values as
this transaction left them), and what the transaction changed is flushed first, so the
read sees it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Table, inspect
from sqlalchemy.orm import InstanceState, Mapper
from sqlalchemy.sql import Executable
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.plain_rows import plain_rows

M = TypeVar("M", bound=SQLModel)


def table_of(model: type[SQLModel]) -> Table:
    """The model's table, whose columns (all of them, in order) a load must select."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


@dataclass(frozen=True, slots=True)
class _Shape:
    """What loading a row of a model needs, found once per model: its mapper, its
    table's column names in order and where its primary key's columns are."""

    mapper: Mapper[Any]
    names: tuple[str, ...]
    key_at: tuple[int, ...]


@functools.cache
def _shape(model: type[SQLModel]) -> _Shape:
    mapper: Mapper[Any] = inspect(model)
    names = tuple(table_of(model).columns.keys())
    return _Shape(mapper, names, tuple(names.index(c.name) for c in mapper.primary_key))


def unsaved(model: type[M], values: Mapping[str, Any]) -> M:
    """A new instance of ``model`` holding ``values`` as a load sets them: without the
    constructor's per-attribute events, belonging to no session."""
    instance: M = _shape(model).mapper.class_manager.new_instance()
    instance.__dict__.update(values)
    return instance


def adopt(session: AsyncSession, model: type[M], values: Sequence[Any]) -> M:
    """The session's instance of ``model`` for a row of every column of its table, in order."""
    shape = _shape(model)
    if len(values) != len(shape.names):
        raise ValueError(f"{model.__name__}: {len(values)} values for {len(shape.names)} columns")
    sync = session.sync_session
    key = shape.mapper.identity_key_from_primary_key(tuple(values[i] for i in shape.key_at))
    held: M | None = sync.identity_map.get(key)
    if held is not None:
        return held
    instance: M = shape.mapper.class_manager.new_instance()
    instance.__dict__.update(zip(shape.names, values, strict=True))
    # What a query's loading does with a row it has not seen (sqlalchemy.orm.loading's
    # ``_instance``): the state gets its key and session and joins the identity map.
    # The public way, make_transient_to_detached then Session.add, reached the same
    # state through the session's cascades and attach events: 5 % of a reminder. The
    # tests of this module compare the result with a query's, so an upgrade that
    # changes these internals fails there.
    state: InstanceState[M] = inspect(instance)
    state.key = key
    state.session_id = sync.hash_key
    identity_map = sync.identity_map
    identity_map._add_unpresent(state, key)
    state._commit_all(state.dict, identity_map)
    return instance


def keep(session: AsyncSession, row: SQLModel) -> None:
    """Have the session write ``row``'s changes: add it, unless it holds the row already
    (a loaded row). Adding a held row changes nothing, but walks the model's cascades:
    several microseconds, on every turn."""
    if row not in session.sync_session:
        session.add(row)


async def load(
    session: AsyncSession, model: type[M], statement: Executable, params: Mapping[str, Any]
) -> list[M]:
    """The rows of ``statement`` (it selects every column of ``model``'s table, in order)
    as the session's instances, in the statement's order."""
    return [adopt(session, model, row) for row in await plain_rows(session, statement, params)]
