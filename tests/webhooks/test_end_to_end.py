"""A withdrawal texted to the real app reaches a real HTTP receiver, signed, within seconds."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from consentbot import keys
from consentbot.services.clock import ManualClock
from tests.conftest import AppClient, settle
from tests.support.journey import STUDY, ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone
from tests.webhooks.support import Receiver, add_webhook, deliveries, receiving

PHONE = "+447400900101"


async def confirmed_participant(client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock) -> TwilioPhone:
    """P-1 says yes to records-research and confirms a day later."""
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, PHONE)
    await research.invite(phone.number, "P-1")
    for answer in ["YES", "YES", "YES", "NO", "NO", "YES"]:
        await phone.send(answer)
    clock.advance(timedelta(days=1))
    await phone.send("CONFIRM")
    await settle(client.app)
    assert (await research.consent("P-1"))["records-research"] == "active"
    return phone


async def all_delivered(client: AppClient) -> None:
    """Return once every delivery is settled as delivered (the caller bounds the wait)."""
    for _ in range(10_000):
        if all(d.status == "delivered" for d in await deliveries(client)):
            return
        await asyncio.sleep(0.01)


async def test_a_withdrawal_by_sms_wakes_the_delivery_loop_and_arrives_signed(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    hooks, url = receiver
    _id, secret = await add_webhook(client, url, STUDY)
    phone = await confirmed_participant(client, fake_twilio, clock)
    deliverer = client.app[keys.WEBHOOK_DELIVERIES]
    await deliverer.deliver_due()
    before = hooks.payloads()
    assert [p["to"] for p in before if p["purpose"] == "records-research"] == ["pending", "active"]
    hooks.arrived.clear()
    # An hour between looks: only the wake after the withdrawal's commit can make it arrive.
    loop = asyncio.create_task(deliverer.run(3600))
    try:
        await phone.send("WITHDRAW")
        queued = len(await deliveries(client))
        assert queued > len(before)  # the withdrawal's events, committed with it
        await asyncio.wait_for(hooks.arrived.wait(), timeout=5)
        async with asyncio.timeout(5):
            await all_delivered(client)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    withdrawal = next(r for r in hooks.received[len(before) :] if r.payload["purpose"] == "records-research")
    body = withdrawal.payload
    assert body == {
        "type": "consent.changed",
        "study": STUDY,
        "participant": "P-1",
        "purpose": body["purpose"],
        "from": "active",
        "to": "withdrawn",
        "at": clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "content_version": 1,
        "event_hash": body["event_hash"],
    }
    assert len(body["event_hash"]) == 64
    assert PHONE not in withdrawal.body
    assert PHONE[1:] not in withdrawal.body
    headers = withdrawal.headers
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"].startswith("msg_")
    sent_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    assert sent_at == clock().replace(microsecond=0)
    # The Standard Webhooks library computes the same signature from the secret.
    expected = Webhook(secret).sign(headers["webhook-id"], sent_at, withdrawal.body)
    assert headers["webhook-signature"] == expected
    assert len(hooks.received) == queued  # each once


async def test_a_receiver_that_hangs_does_not_hold_back_another(
    client: AppClient, fake_twilio: FakeTwilio, receiver: tuple[Receiver, str]
) -> None:
    healthy, healthy_url = receiver
    hold = asyncio.Event()
    hanging = Receiver(hold=hold)
    async for _hanging, hanging_url in receiving(hanging):
        await add_webhook(client, hanging_url, STUDY)
        await add_webhook(client, healthy_url, STUDY)
        research = await ResearchSystem.register(client)
        await research.invite("+447400900102", "H-1")
        phone = TwilioPhone(client, fake_twilio, "+447400900102")
        await phone.send("YES")
        loop = asyncio.create_task(client.app[keys.WEBHOOK_DELIVERIES].run(3600))
        try:
            # Generous bounds: this is about one receiver not holding back another, on a
            # machine shared with the rest of the suite (the 5-second bound is tested above).
            await phone.send("YES")  # records-research: pending
            await asyncio.wait_for(hanging.arrived.wait(), timeout=30)
            await phone.send("YES")  # social-care-linkage: pending, while the other hangs
            async with asyncio.timeout(30):
                await arrivals(healthy, 2)
            assert [p["purpose"] for p in healthy.payloads()] == ["records-research", "social-care-linkage"]
            assert len(hanging.received) == 1  # its next change waits for the first
            hold.set()
            async with asyncio.timeout(30):
                await arrivals(hanging, 2)
            assert [p["purpose"] for p in hanging.payloads()] == ["records-research", "social-care-linkage"]
        finally:
            hold.set()  # a failure above must not leave the receiver's shutdown waiting for ever
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop


async def arrivals(receiver: Receiver, count: int) -> None:
    """Return once ``receiver`` got ``count`` requests (the caller bounds the wait)."""
    for _ in range(10_000):
        if len(receiver.received) >= count:
            return
        await asyncio.sleep(0.01)
