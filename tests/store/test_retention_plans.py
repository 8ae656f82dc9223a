"""The hourly retention sweep seeks old rows through an index and stops at its batch.

SQLite plans without statistics (the service never runs ANALYZE). Ordered by id, each
sweep read its whole table in id order, in a write transaction, to find nothing old.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from consentbot.store import migrate
from consentbot.store.database import Database
from consentbot.store.retention import RetentionRepository
from tests.conftest import START
from tests.support.query_plans import plan_of, statements_sent

SEEKS = {
    "web_message": "ix_web_message_created_at",
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
