"""A long verification blocks nobody: the server answers webhooks and writes the ledger meanwhile."""

from __future__ import annotations

import asyncio

from consentbot import keys
from consentbot.services.audit import LedgerAudit
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.database import Database
from tests.conftest import AppClient
from tests.support.journey import STUDY
from tests.support.tamper import two_participants
from tests.support.twilio_fake import FakeTwilio


async def test_webhooks_are_answered_and_committed_while_verify_holds_its_read_transaction(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    phones = await two_participants(client, fake_twilio, clock)
    paused, resume = asyncio.Event(), asyncio.Event()

    async def on_batch(read: int) -> None:
        if read == 1:  # participant A-1 is read; its read transaction is still open
            paused.set()
            await resume.wait()

    # Its own engine, as `consentbot audit verify` has in its own process.
    db = Database(settings.effective_database_url)
    try:
        audit = LedgerAudit(db, client.app[keys.STUDIES], batch_size=1, on_batch=on_batch)
        verifying = asyncio.create_task(audit.verify())
        await paused.wait()
        await phones[1].send("WITHDRAW")  # TwilioPhone checks the webhook was answered 200
        history = await client.app[keys.QUERIES].history(STUDY, "A-2")
        assert [e.action for e in history][-3:] == ["withdraw"] * 3
        assert not verifying.done()
        resume.set()
        report = await verifying
    finally:
        await db.dispose()
    assert report.findings == []
    # A-1 as it was when read; A-2 read after the webhook, with its three new events.
    assert (report.participants, report.events) == (2, 5 + 11)
