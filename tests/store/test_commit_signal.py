"""Database.on_commit: a loop wakes after commits that wrote what it waits for, and no others."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from consentbot import keys
from consentbot.services.clock import ManualClock
from consentbot.store.webhooks import DELIVERIES_QUEUED, WebhookRepository
from tests.conftest import AppClient
from tests.support.journey import STUDY, ResearchSystem

FLAG = "tests.something_written"


async def test_only_a_committed_transaction_with_the_flag_calls_back(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    calls: list[str] = []
    db.on_commit(FLAG, lambda: calls.append("woken"))

    async with db.transaction() as session:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    assert calls == []  # nothing flagged

    async def flagged_then_failed() -> None:
        async with db.transaction() as session:
            session.info[FLAG] = True
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await flagged_then_failed()
    assert calls == []  # flagged, but never committed

    async with db.transaction() as session:
        session.info[FLAG] = True
    assert calls == ["woken"]

    async with db.transaction() as session:
        pass
    assert calls == ["woken"]  # a session's flag never outlives it


async def test_queueing_a_webhook_delivery_flags_its_transaction(
    client: AppClient, clock: ManualClock
) -> None:
    await (await ResearchSystem.register(client)).invite("+447400900101", "U-1")
    db = client.app[keys.DATABASE]
    woken: list[bool] = []
    db.on_commit(DELIVERIES_QUEUED, lambda: woken.append(True))
    async with db.transaction() as session:
        (participant_id,) = (await session.exec(text("SELECT id FROM participant"))).one()  # type: ignore[call-overload]
        webhooks = WebhookRepository(session)
        webhook = await webhooks.add(STUDY, "https://example.org/hook", clock())
        assert webhook.id is not None
        assert DELIVERIES_QUEUED not in session.info  # registering queues nothing
        webhooks.queue(webhook.id, participant_id, "{}", clock())
    assert woken == [True]
