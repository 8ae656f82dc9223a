"""An access recorded while a withdrawal is in flight waits for it, and then refuses the person."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from consentbot import keys
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.services.clock import ManualClock
from consentbot.services.pipeline import BySms, FromNumber, Said
from consentbot.store.database import Database
from tests.accesses.support import active_people, body, record
from tests.conftest import AppClient
from tests.support.journey import ResearchSystem
from tests.support.twilio_fake import FakeTwilio


async def until_waiting_for_a_lock(db: Database, task: asyncio.Task[object]) -> None:
    """Until the access request waits: for a row lock (PostgreSQL), for the writer (SQLite)."""
    for _ in range(2000):
        assert not task.done(), "the access was recorded while the withdrawal held the lock"
        if db.is_sqlite:
            if db._writer is not None and db._writer._waiters:
                return
        else:
            async with db.read() as session:
                waiting = (await session.exec(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))).one()  # type: ignore[call-overload]
            if waiting[0]:
                return
        await asyncio.sleep(0.005)
    raise AssertionError("the access request never waited for the withdrawal's lock")


async def test_an_access_during_a_withdrawal_waits_and_is_refused(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    phones = await active_people(client, fake_twilio, clock, research, 2)
    db = client.app[keys.DATABASE]
    pipeline = client.app[keys.INBOUND].pipeline
    provenance = Provenance(Channel.SMS_TWILIO, "participant", Auth.SMS)
    async with db.transaction() as session:
        await pipeline.run(session, FromNumber(phones[0].number), Said("WITHDRAW"), provenance, BySms(), clock())
        access = asyncio.create_task(record(client, research, body(["P-1", "P-2"])))
        await until_waiting_for_a_lock(db, access)
    status, data = await access
    assert status == 201
    assert data["recorded"] == ["P-2"]
    assert data["refused"] == [{"participant": "P-1", "status": "withdrawn"}]
