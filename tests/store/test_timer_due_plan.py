"""Finding due timers reads the due ones through ix_timer_due, not every pending timer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert, text

from consentbot import keys
from consentbot.domain.timers import TimerKind, TimerStatus
from consentbot.services.clock import ManualClock
from consentbot.store.tables import Timer
from consentbot.store.timers import TimerRepository
from tests.conftest import AppClient
from tests.support.journey import ResearchSystem

NOT_YET = 20_000
DUE = 7


async def test_the_due_query_reads_only_due_timers_through_its_index(
    client: AppClient, clock: ManualClock
) -> None:
    await (await ResearchSystem.register(client)).invite("+447400900111", "U-1")
    db = client.app[keys.DATABASE]
    now = clock()
    async with db.transaction() as session:
        (participant_id,) = (await session.exec(text("SELECT id FROM participant"))).one()  # type: ignore[call-overload]
        await session.exec(text("DELETE FROM timer"))  # type: ignore[call-overload]
        rows = [
            {
                "participant_id": participant_id,
                "kind": TimerKind.LATER,
                "due_at": now + timedelta(days=1, minutes=n),
                "status": TimerStatus.PENDING,
                "created_at": now,
            }
            for n in range(NOT_YET)
        ] + [
            {
                "participant_id": participant_id,
                "kind": TimerKind.CONFIRM_REMINDER,
                "due_at": now - timedelta(minutes=n),
                "status": TimerStatus.PENDING,
                "created_at": now,
            }
            for n in range(DUE)
        ]
        await session.exec(insert(Timer), params=rows)
    async with db.transaction() as session:
        # PostgreSQL plans from statistics; SQLite's planner does well without, and
        # ANALYZE keeps it honest there too.
        await session.exec(text("ANALYZE timer"))  # type: ignore[call-overload]

    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM timer" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with db.read() as session:
            due = await TimerRepository(session).due(now, 100)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
    assert [kind for _id, _p, kind in due] == [TimerKind.CONFIRM_REMINDER] * DUE

    (statement, parameters), = seen
    async with db.read() as session:
        connection = await (await session.connection()).get_raw_connection()
        driver: Any = connection.driver_connection
        if db.is_sqlite:
            found = await driver.execute_fetchall(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = "\n".join(str(row[-1]) for row in found)
            assert "USING INDEX ix_timer_due" in plan, plan
            assert "SCAN timer" not in plan, plan  # never every timer
        else:
            found = await driver.fetch(f"EXPLAIN {statement}", *parameters)
            plan = "\n".join(row[0] for row in found)
            assert "ix_timer_due" in plan, plan
            assert "Seq Scan on timer" not in plan, plan
