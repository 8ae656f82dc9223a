"""Write a loaded row's changes by one Core UPDATE, so the unit of work has nothing to do.

A turn changes its participant's row (conversation, ledger head, language...) and at
times its contact's (the number it prompted, STOP). Left to the session, those changes
are written by its flush: on the SMS journey that flush, run when each turn's savepoint
is released, took about a sixth of a turn's CPU, several times the UPDATE it sends.

:func:`write_changes` sends the same UPDATE itself, for the attributes the session saw
change, then marks the row clean. The row stays in the session as it was: later reads of
it in the transaction see the new values, and a change made after this call is flushed
as usual. Only rows loaded from the database (persistent) are written here; a row the
session has still to insert is left to its flush.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, inspect, update
from sqlalchemy.orm import InstanceState, Mapper
from sqlalchemy.sql.dml import Update
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.direct_sql import execute


@cache
def _columns(mapper: Mapper[Any]) -> frozenset[str]:
    """The attributes of ``mapper`` that are its table's columns."""
    return frozenset(prop.key for prop in mapper.column_attrs)


@cache
def _statement(table: Table, key: str, columns: frozenset[str]) -> Update:
    """``UPDATE table SET <columns> WHERE key = :key``, built once per set of columns: a
    statement built per call costs more to build and key for the compiled cache than to run.

    The bound names are prefixed: ``UPDATE ... SET language = :language`` would clash with
    the column the SET clause names."""
    return (
        update(table)
        .where(table.c[key] == bindparam("_key", type_=table.c[key].type))
        .values({name: bindparam(f"_{name}", type_=table.c[name].type) for name in columns})
    )


async def write_changes(session: AsyncSession, *rows: SQLModel) -> None:
    """Write the rows' changed columns now: one statement for all the rows whose changes
    are to the same columns of the same table (a group of reminders: one each for their
    participants), each row once.

    Call it where the session would otherwise flush the rows (before the transaction or
    savepoint ends). Rows the session does not hold as loaded, or with nothing changed,
    are skipped.
    """
    batches: dict[Update, list[dict[str, Any]]] = {}
    written: list[InstanceState[SQLModel]] = []
    for row in {id(row): row for row in rows}.values():
        state: InstanceState[SQLModel] = inspect(row)
        if not state.modified or not state.persistent or state.session is not session.sync_session:
            continue
        mapper = state.mapper
        if not state.committed_state.keys() <= _columns(mapper):
            continue  # anything else is the unit of work's
        written.append(state)
        # Set, but to the value it had (the flush would skip those too).
        changed = frozenset(
            name for name, was in state.committed_state.items() if state.dict[name] != was
        )
        if not changed:
            continue
        table = mapper.local_table
        assert isinstance(table, Table)
        (key,) = mapper.primary_key
        params = {f"_{name}": state.dict[name] for name in changed}
        params["_key"] = state.dict[key.name]
        batches.setdefault(_statement(table, key.name, changed), []).append(params)
    for statement, each in batches.items():
        await execute(session, statement, each[0] if len(each) == 1 else each)
    for state in written:
        # The row now holds what the database holds: nothing is left for the flush. (The
        # session's own bookkeeping after a flush does the same.)
        state._commit_all(state.dict, session.sync_session.identity_map)
