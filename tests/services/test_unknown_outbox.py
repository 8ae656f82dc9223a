"""A message left in "sending" by a crash becomes "unknown": logged, listed, never resent."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import col, select
from structlog.testing import capture_logs

from consentbot import keys
from consentbot.services.clock import ManualClock
from consentbot.services.unknown_outbox import STUCK_AFTER, STUCK_CHECK_EVERY, mark_stuck
from consentbot.settings import Settings
from consentbot.store.outbox import OutboxRepository
from consentbot.store.tables import OutboxMessage
from tests.conftest import AppClient, settle
from tests.support.cli import consentbot
from tests.support.journey import STUDY, ResearchSystem
from tests.support.twilio_fake import FakeTwilio

PHONE = "+447400123460"
OTHER_PHONE = "+447400123461"


async def rows(client: AppClient) -> list[OutboxMessage]:
    async with client.app[keys.DATABASE].read() as session:
        return list((await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all())


async def crash_mid_send(client: AppClient, clock: ManualClock) -> list[int]:
    """What a dispatcher that died after claiming leaves behind: rows in "sending"."""
    async with client.app[keys.DATABASE].transaction() as session:
        claimed = (await OutboxRepository(session).claim_due(clock.now, 50)).messages
    assert claimed
    return [item.message.id or 0 for item in claimed]


async def statuses(client: AppClient) -> dict[int, str]:
    return {row.id or 0: row.status.value for row in await rows(client)}


async def test_a_stuck_message_becomes_unknown_and_is_never_resent(
    client: AppClient, clock: ManualClock, fake_twilio: FakeTwilio
) -> None:
    research = await ResearchSystem.register(client)
    await research.invite(PHONE, "U-1")
    (stuck,) = await crash_mid_send(client, clock)
    db = client.app[keys.DATABASE]
    clock.advance(STUCK_AFTER - timedelta(seconds=1))
    assert await mark_stuck(db, clock) == 0  # a send could still be under way
    assert await statuses(client) == {stuck: "sending"}
    clock.advance(timedelta(seconds=2))
    with capture_logs() as logs:
        assert await mark_stuck(db, clock) == 1
    assert await statuses(client) == {stuck: "unknown"}
    (logged,) = [log for log in logs if log["event"] == "outbox.unknown"]
    assert logged["message"] == stuck
    assert logged["log_level"] == "warning"
    assert PHONE.removeprefix("+") not in repr(logs)
    (row,) = await rows(client)
    assert row.body[:20] not in repr(logs)
    # Never resent, however long the loops run.
    clock.advance(timedelta(days=2))
    await settle(client.app)
    assert fake_twilio.inbox[PHONE] == []
    assert await statuses(client) == {stuck: "unknown"}
    assert await mark_stuck(db, clock) == 0  # and found once


async def test_the_dispatcher_looks_at_start_and_then_every_minute(
    client: AppClient, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    research = await ResearchSystem.register(client)
    dispatcher = client.app[keys.DISPATCHER]
    await research.invite(PHONE, "U-2")
    (first,) = await crash_mid_send(client, clock)
    clock.advance(STUCK_AFTER + timedelta(seconds=1))

    # The test lets each dispatch round run, one at a time, and hears when it has.
    allowed: asyncio.Queue[None] = asyncio.Queue()
    done: asyncio.Queue[None] = asyncio.Queue()
    dispatch_once = dispatcher.dispatch_once

    async def one_round_when_allowed(*, look_first: bool = True) -> int:
        await allowed.get()
        claimed = await dispatch_once(look_first=look_first)
        done.put_nowait(None)
        return claimed

    async def rounds(count: int) -> None:
        for _ in range(count):
            dispatcher.wake()
            allowed.put_nowait(None)
            await done.get()

    monkeypatch.setattr(dispatcher, "dispatch_once", one_round_when_allowed)
    loop = asyncio.create_task(dispatcher.run(interval=3600))
    try:
        await rounds(1)  # a round ran, so the look at start has happened
        assert (await statuses(client))[first] == "unknown"

        await research.invite(OTHER_PHONE, "U-3")  # (its wake may start a round: it waits)
        (second,) = await crash_mid_send(client, clock)
        clock.advance(STUCK_AFTER + timedelta(seconds=1))
        assert STUCK_AFTER > STUCK_CHECK_EVERY  # so the minute has passed too
        await rounds(2)  # the second began after the clock moved, so it looked
        assert (await statuses(client))[second] == "unknown"
    finally:
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop


async def test_a_kannel_report_for_an_unknown_message_says_it_went(
    client: AppClient, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    await research.invite(PHONE, "U-4")
    (stuck,) = await crash_mid_send(client, clock)
    clock.advance(STUCK_AFTER * 2)
    await mark_stuck(client.app[keys.DATABASE], clock)
    (row,) = await rows(client)
    await client.app[keys.DISPATCHER].record_delivery_for_reference(row.reference, "delivered", None)
    (row,) = await rows(client)
    assert (row.id, row.status, row.delivery_status) == (stuck, "sent", "delivered")


async def test_outbox_unknown_lists_them_without_number_or_text(
    client: AppClient, clock: ManualClock, settings: Settings
) -> None:
    empty = consentbot(settings, "outbox", "unknown")
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.strip() == "no messages in unknown state"

    research = await ResearchSystem.register(client)
    await research.invite(PHONE, "U-5")
    claimed_at = clock.now
    stuck = await crash_mid_send(client, clock)
    clock.advance(STUCK_AFTER * 2)
    await mark_stuck(client.app[keys.DATABASE], clock)
    listed = consentbot(settings, "outbox", "unknown")
    assert listed.returncode == 0, listed.stderr
    header, *lines = listed.stdout.strip().splitlines()
    assert header.split() == ["id", "reference", "kind", "study", "participant", "created", "claimed"]
    by_id = {row.id: row for row in await rows(client)}
    assert [line.split() for line in lines] == [
        [
            str(message_id),
            by_id[message_id].reference,
            "invitation",
            STUDY,
            "U-5",
            by_id[message_id].created_at.isoformat(timespec="seconds"),
            claimed_at.isoformat(timespec="seconds"),
        ]
        for message_id in stuck
    ]
    assert "may or may not have reached the person" in listed.stderr
    for secret in (PHONE, PHONE.removeprefix("+44"), by_id[stuck[0]].body[:20]):
        assert secret not in listed.stdout + listed.stderr
