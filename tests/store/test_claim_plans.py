"""Claiming due work reads what it takes, not all that is due, pending or waiting.

A morning's reminders can leave tens of thousands of messages due and timers pending. The
dispatcher's claim reads each queue oldest first and stops at its batch; the scheduler's
claim of a group's timers finds them by id, and their waiting call-backs by person.
Checked on the plans both databases choose.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert, text

from consentbot.domain.callbacks import CallbackStatus
from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.services.clock import ManualClock
from consentbot.store.callbacks import CallbackRepository
from consentbot.store.outbox import OutboxRepository
from consentbot.store.tables import CallbackRequest, OutboxMessage, Timer
from consentbot.store.timers import TimerRepository
from tests.conftest import AppClient
from tests.support.query_plans import (
    analyze,
    invited_person,
    later_timers,
    plan_of,
    sent_and_rolled_back,
)

DUE_REMINDERS = 5_000
PENDING_TIMERS = 5_000
BATCH = 50
WAITING_CALLBACKS = 2_000


async def test_a_claim_reads_each_queue_in_order_up_to_its_batch(
    client: AppClient, clock: ManualClock
) -> None:
    db, contact_id, participant_id = await invited_person(client)
    now = clock()
    reminders = [
        {
            "contact_id": contact_id,
            "participant_id": participant_id,
            "reference": f"r{n}",
            "kind": OutboxKind.CONFIRM_REMINDER,
            "body": "A reminder",
            "paced": True,
            "status": OutboxStatus.PENDING,
            "send_after": now - timedelta(seconds=n),
            "created_at": now - timedelta(seconds=n),
        }
        for n in range(DUE_REMINDERS)
    ]
    async with db.transaction() as session:
        await session.exec(insert(OutboxMessage), params=reminders)
    await analyze(db)

    async def claim(session: Any) -> None:
        taken = await OutboxRepository(session).claim_due(now, BATCH, proactive_limit=BATCH)
        assert len(taken.messages) == BATCH
        assert taken.proactive_taken == BATCH

    seen = await sent_and_rolled_back(db, "JOIN contact", claim)
    assert len(seen) == 2  # the replies' queue, then ours
    for statement, parameters in seen:
        plan = await plan_of(db, statement, parameters)
        assert "ix_outbox_queue" in plan, plan
        if db.is_sqlite:
            assert "TEMP B-TREE" not in plan, plan  # no sorting of all that is due
        else:
            assert "Sort" not in plan, plan


async def test_a_group_of_timers_is_claimed_by_id(client: AppClient, clock: ManualClock) -> None:
    db, _contact_id, participant_id = await invited_person(client)
    now = clock()
    async with db.transaction() as session:
        await session.exec(insert(Timer), params=later_timers(participant_id, PENDING_TIMERS, now))
        found = await session.exec(text("SELECT id FROM timer ORDER BY id LIMIT 50"))  # type: ignore[call-overload]
        group = [timer_id for (timer_id,) in found.all()]
    await analyze(db)

    async def claim(session: Any) -> None:
        assert len(await TimerRepository(session).claim_many(group, now)) == len(group)

    (statement, parameters), = await sent_and_rolled_back(db, "UPDATE timer", claim)
    plan = await plan_of(db, statement, parameters)
    if db.is_sqlite:
        assert "USING INTEGER PRIMARY KEY" in plan, plan
        assert "ix_timer_due" not in plan, plan  # never every pending timer
    else:
        assert "timer_pkey" in plan, plan


async def test_a_groups_waiting_call_backs_are_found_by_person(
    client: AppClient, clock: ManualClock
) -> None:
    """Each turn and each group of timers asks which of its people wait for a call-back:
    read through those people's requests, never the whole queue."""
    db, _contact_id, participant_id = await invited_person(client)
    now = clock()
    rows = [
        {
            "study_id": "queue",
            "participant_id": participant_id,
            "requested_at": now,
            "status": CallbackStatus.OPEN,
        }
        for _ in range(WAITING_CALLBACKS)
    ]
    async with db.transaction() as session:
        await session.exec(insert(CallbackRequest), params=rows)
    await analyze(db)
    group = list(range(participant_id + 1, participant_id + 51))

    async def load(session: Any) -> None:
        assert await CallbackRepository(session).waiting_among(group) == set()

    (statement, parameters), = await sent_and_rolled_back(db, "FROM callback_request", load)
    plan = await plan_of(db, statement, parameters)
    assert "participant_id" in plan, plan
    assert "ix_callback_request_queue" not in plan, plan
