"""The hourly retention sweep seeks old rows through an index and stops at its batch.

SQLite plans without statistics (the service never runs ANALYZE). Ordered by id, each
sweep read its whole table in id order, in a write transaction, to find nothing old.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.services.clock import ManualClock
from consentbot.store import migrate
from consentbot.store.database import Database
from consentbot.store.retention import RetentionRepository
from consentbot.store.tables import OutboxMessage
from tests.conftest import START, AppClient
from tests.support.query_plans import (
    analyze,
    invited_person,
    plan_of,
    sent_and_rolled_back,
    statements_sent,
)

SEEKS = {
    "web_message": "ix_web_message_created_at",
    "web_session": "ix_web_session_expires_at",
    "web_form_use": "ix_web_form_use_used_at",
    "phone_verification": "ix_phone_verification_created_at",
    "inbound_message": "ix_inbound_message_received_at",
}


async def test_each_sweep_reads_only_old_rows_through_its_time_index(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'plans.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(url)
    try:
        with statements_sent(db, "SELECT") as seen:
            async with db.transaction() as session:
                sweep = RetentionRepository(session)
                await sweep.delete_web_messages(START, 500)
                await sweep.delete_web_sessions(START, 500)
                await sweep.delete_form_uses(START, 500)
                await sweep.delete_verifications(START, 500)
                await sweep.delete_inbound_ids(START, 500)
        plans = {
            statement.split("FROM", 1)[1].split()[0]: await plan_of(db, statement, parameters)
            for statement, parameters in seen
        }
    finally:
        await db.dispose()
    assert set(plans) == set(SEEKS)
    for table, index in SEEKS.items():
        assert f"USING COVERING INDEX {index}" in plans[table], plans[table]
        assert "SCAN" not in plans[table], plans[table]
        assert "TEMP B-TREE" not in plans[table], plans[table]


BLANKED = 5_000
STILL_HOLDING = 20


async def test_blanking_reads_only_messages_that_still_hold_text(client: AppClient, clock: ManualClock) -> None:
    """Messages blanked in earlier sweeps are never read again: on both databases the
    read goes through the partial index of messages that still hold a text or secret."""
    db, contact_id, _participant_id = await invited_person(client)
    now = clock()
    old = now - timedelta(days=400)

    def message(n: int, body: str) -> dict[str, Any]:
        return {
            "contact_id": contact_id,
            "reference": f"{n:032x}",
            "kind": OutboxKind.REPLY,
            "body": body,
            "status": OutboxStatus.SENT,
            "send_after": old + timedelta(seconds=n),
            "claimed_at": old + timedelta(seconds=n),
            "sent_at": old + timedelta(seconds=n),
            "created_at": old + timedelta(seconds=n),
        }

    rows = [message(n, "") for n in range(BLANKED)]
    rows += [message(BLANKED + n, "Thank you.") for n in range(STILL_HOLDING)]
    async with db.transaction() as session:
        await session.exec(insert(OutboxMessage), params=rows)
    await analyze(db)

    async def sweep(session: Any) -> None:
        assert await RetentionRepository(session).blank_outbox_bodies(now, 500) == STILL_HOLDING

    (statement, parameters), *_blank = await sent_and_rolled_back(db, "FROM outbox", sweep)
    plan = await plan_of(db, statement, parameters)
    assert "ix_outbox_unblanked" in plan, plan
    assert ("TEMP B-TREE" if db.is_sqlite else "Sort") not in plan, plan
