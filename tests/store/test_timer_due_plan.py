"""Finding due timers reads the due ones through ix_timer_due, not every pending timer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, text

from consentbot import keys
from consentbot.domain.timers import TimerKind, TimerStatus
from consentbot.services.clock import ManualClock
from consentbot.store.tables import Timer
from consentbot.store.timers import TimerRepository
from tests.conftest import AppClient
from tests.support.journey import ResearchSystem
from tests.support.query_plans import later_timers, plan_of, statements_sent

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
        rows = later_timers(participant_id, NOT_YET, now) + [
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

    with statements_sent(db, "FROM timer") as seen:
        async with db.read() as session:
            due = await TimerRepository(session).due(now, 100)
    assert [kind for _id, _p, kind in due] == [TimerKind.CONFIRM_REMINDER] * DUE

    (statement, parameters), = seen
    plan = await plan_of(db, statement, parameters)
    if db.is_sqlite:
        assert "USING INDEX ix_timer_due" in plan, plan
        assert "SCAN timer" not in plan, plan  # never every timer
    else:
        assert "ix_timer_due" in plan, plan
        assert "Seq Scan on timer" not in plan, plan
