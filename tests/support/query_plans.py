"""The statements a piece of work sends, and the plan each database chooses for them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, text

from consentbot import keys
from consentbot.domain.timers import TimerKind, TimerStatus
from consentbot.store.database import Database
from tests.conftest import AppClient
from tests.support.journey import ResearchSystem

Sent = list[tuple[str, Any]]
"""Statements as the driver got them, each with its parameters."""


@contextmanager
def statements_sent(db: Database, marker: str = "") -> Iterator[Sent]:
    """Collect the statements holding ``marker`` (every one, by default) that ``db`` sends
    inside the block."""
    seen: Sent = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if marker in statement:
            seen.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", capture)


async def sent_and_rolled_back(
    db: Database, marker: str, work: Callable[[Any], Awaitable[None]]
) -> Sent:
    """The statements holding ``marker`` that ``await work(session)`` sends in a write
    transaction, which is then rolled back, so plans are read on the same rows."""
    with statements_sent(db, marker) as seen:
        async with db.transaction() as session:
            await work(session)
            await session.rollback()
    return seen


async def plan_of(db: Database, statement: str, parameters: Any) -> str:
    """``EXPLAIN QUERY PLAN`` (SQLite) or ``EXPLAIN`` (PostgreSQL) of one sent statement."""
    async with db.read() as session:
        connection = await (await session.connection()).get_raw_connection()
        driver: Any = connection.driver_connection
        if db.is_sqlite:
            found = await driver.execute_fetchall(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(str(row[-1]) for row in found)
        found = await driver.fetch(f"EXPLAIN {statement}", *parameters)
        return "\n".join(row[0] for row in found)


def later_timers(participant_id: int, count: int, now: datetime) -> list[dict[str, Any]]:
    """``count`` pending "remind me later" timers, due a day from ``now`` and a minute apart."""
    return [
        {
            "participant_id": participant_id,
            "kind": TimerKind.LATER,
            "due_at": now + timedelta(days=1, minutes=n),
            "status": TimerStatus.PENDING,
            "created_at": now,
        }
        for n in range(count)
    ]


async def invited_person(client: AppClient) -> tuple[Database, int, int]:
    """The database, and the contact and participant of one invited person, with the
    invitation's message and timers removed."""
    await (await ResearchSystem.register(client)).invite("+447400900111", "U-1")
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        found = await session.exec(text("SELECT contact_id, id FROM participant"))  # type: ignore[call-overload]
        contact_id, participant_id = found.one()
        await session.exec(text("DELETE FROM outbox"))  # type: ignore[call-overload]
        await session.exec(text("DELETE FROM timer"))  # type: ignore[call-overload]
    return db, contact_id, participant_id


async def analyze(db: Database) -> None:
    """PostgreSQL plans from statistics, which autovacuum keeps; the service never asks
    SQLite to gather any, so its planner is tested on the guesses it makes without."""
    if db.is_sqlite:
        return
    async with db.transaction() as session:
        await session.exec(text("ANALYZE"))  # type: ignore[call-overload]
