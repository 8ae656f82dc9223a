"""Delivery reports that arrive late or twice never move a message backwards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlmodel import select

from consentbot import keys
from consentbot.channels.twilio_signature import compute_signature
from consentbot.store.tables import Contact, OutboxMessage
from tests.conftest import AppClient
from tests.support.journey import ResearchSystem
from tests.support.twilio_fake import AUTH_TOKEN, PUBLIC_URL, FakeTwilio, TwilioPhone

Loops = Callable[[], Awaitable[None]]
PHONE = "+447400123459"


async def report(client: AppClient, sid: str, status: str, code: str | None = None) -> None:
    """Twilio's signed status callback."""
    params = {"MessageSid": sid, "MessageStatus": status} | ({"ErrorCode": code} if code else {})
    signature = compute_signature(AUTH_TOKEN, f"{PUBLIC_URL}/sms/twilio/status", params)
    response = await client.post(
        "/sms/twilio/status", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status == 204


async def invitation(client: AppClient, run_loops: Loops) -> OutboxMessage:
    research = await ResearchSystem.register(client)
    await research.invite(PHONE, "DR-1")
    await run_loops()
    async with client.app[keys.DATABASE].read() as session:
        (row,) = (await session.exec(select(OutboxMessage))).all()
    assert row.provider_id is not None
    return row


async def recorded(client: AppClient, row: OutboxMessage) -> tuple[str | None, str | None]:
    async with client.app[keys.DATABASE].read() as session:
        stored = await session.get(OutboxMessage, row.id)
    assert stored is not None
    return stored.delivery_status, stored.error_code


async def stopped(client: AppClient) -> bool:
    async with client.app[keys.DATABASE].read() as session:
        (contact,) = (await session.exec(select(Contact))).all()
    return contact.stopped


@pytest.mark.parametrize(
    "order",
    [
        ("queued", "sent", "delivered"),
        ("delivered", "sent", "queued"),
        ("sent", "delivered", "queued"),
        ("queued", "delivered", "sent"),
    ],
)
async def test_the_furthest_status_wins_whatever_the_order(
    client: AppClient, run_loops: Loops, order: tuple[str, ...]
) -> None:
    row = await invitation(client, run_loops)
    assert row.provider_id is not None
    for status in order:
        await report(client, row.provider_id, status)
    assert await recorded(client, row) == ("delivered", None)


async def test_a_late_failure_does_not_overwrite_delivered(
    client: AppClient, run_loops: Loops
) -> None:
    row = await invitation(client, run_loops)
    assert row.provider_id is not None
    await report(client, row.provider_id, "delivered")
    await report(client, row.provider_id, "undelivered", "21610")
    assert await recorded(client, row) == ("delivered", None)
    assert not await stopped(client)


async def test_a_repeated_carrier_stop_does_not_undo_a_later_start(
    client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    row = await invitation(client, run_loops)
    assert row.provider_id is not None
    await report(client, row.provider_id, "undelivered", "21610")
    assert await stopped(client)
    await TwilioPhone(client, fake_twilio, PHONE).send("START")
    assert not await stopped(client)
    await report(client, row.provider_id, "undelivered", "21610")  # Twilio posts it again
    assert not await stopped(client)
    assert await recorded(client, row) == ("undelivered", "21610")
