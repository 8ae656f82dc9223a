"""The outbox: split by segment arithmetic, sent at most once, retried only when retryable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select
from structlog.testing import capture_logs

from consentbot import keys
from consentbot.channels.twilio_signature import compute_signature
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.sms_segments import segment_count
from consentbot.services.clock import ManualClock
from consentbot.store.contacts import ContactRepository
from consentbot.store.crypto import PhoneVault
from consentbot.store.outbox import OutboxRepository
from consentbot.store.tables import Contact, OutboxMessage
from tests.conftest import AppClient
from tests.support.journey import ResearchSystem
from tests.support.outbox import same_message
from tests.support.twilio_fake import AUTH_TOKEN, PUBLIC_URL, FakeTwilio, TwilioPhone

Loops = Callable[[], Awaitable[None]]


async def outbox(client: AppClient) -> list[OutboxMessage]:
    async with client.app[keys.DATABASE].transaction() as session:
        return list((await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all())


async def test_urdu_goes_as_ucs2_within_the_segment_limit(
    client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900601")
    await research.invite(phone.number, "D-1", "ur")
    await phone.send("مزید")
    await phone.send("3")
    await phone.send("مزید")  # the long detail of a topic
    await run_loops()
    rows = await outbox(client)
    limit = client.app[keys.SETTINGS].max_segments
    received = fake_twilio.inbox[phone.number]
    assert all(row.ucs2 for row in rows)
    # Counted on the text that went, personal link included (the body keeps it redacted).
    assert all(row.segments == segment_count(text) <= limit for row, text in zip(rows, received, strict=True))
    assert len(rows) > 4, "the Urdu detail should need more than one message"
    assert all(same_message(row.body, text) for row, text in zip(rows, received, strict=True))


async def test_retryable_failures_are_retried_with_a_delay(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    fake_twilio.fail_next.extend([500] * 8)  # the gateway's own retries, then the outbox's
    await research.invite("+447400900602", "D-2")
    await run_loops()
    (row,) = await outbox(client)
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.send_after > clock.now
    fake_twilio.fail_next.clear()
    clock.advance(timedelta(minutes=1))
    await run_loops()
    (row,) = await outbox(client)
    assert row.status == "sent"
    assert row.provider_id is not None
    (text,) = fake_twilio.inbox["+447400900602"]
    assert same_message(row.body, text)


async def test_carrier_stop_from_a_status_callback_stops_the_number(
    client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    await research.invite("+447400900603", "D-3")
    await run_loops()
    (row,) = await outbox(client)
    assert fake_twilio.status_callbacks == [f"{PUBLIC_URL}/sms/twilio/status"]
    params = {"MessageSid": row.provider_id or "", "MessageStatus": "undelivered", "ErrorCode": "21610"}
    signature = compute_signature(AUTH_TOKEN, f"{PUBLIC_URL}/sms/twilio/status", params)
    response = await client.post("/sms/twilio/status", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status in (200, 204)
    async with client.app[keys.DATABASE].transaction() as session:
        (contact,) = (await session.exec(select(Contact))).all()
        stored = await session.get(OutboxMessage, row.id)
    assert contact.stopped
    assert stored is not None
    assert stored.delivery_status == "undelivered"
    assert stored.error_code == "21610"


async def test_unsigned_status_callback_is_refused(client: AppClient) -> None:
    response = await client.post("/sms/twilio/status", data={"MessageSid": "SM1", "MessageStatus": "delivered"})
    assert response.status == 403


async def test_unsigned_inbound_is_refused_and_changes_nothing(client: AppClient) -> None:
    response = await client.post(
        "/sms/twilio/inbound", data={"MessageSid": "SM1", "From": "+447400900604", "Body": "JOINTS"},
        headers={"X-Twilio-Signature": "forged"},
    )
    assert response.status == 403
    async with client.app[keys.DATABASE].transaction() as session:
        assert (await session.exec(select(Contact))).all() == []


async def test_carrier_stop_on_send_stops_the_number_and_is_not_retried(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    fake_twilio.reject_next.append(21610)
    await research.invite("+447400900605", "D-5")
    await run_loops()
    clock.advance(timedelta(hours=1))
    await run_loops()
    (row,) = await outbox(client)
    assert row.status == "opted-out"
    assert row.attempts == 1
    async with client.app[keys.DATABASE].transaction() as session:
        (contact,) = (await session.exec(select(Contact))).all()
    assert contact.stopped
    assert fake_twilio.inbox["+447400900605"] == []


async def test_later_parts_wait_when_an_earlier_part_fails(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900606")
    await research.invite(phone.number, "D-6", "ur")
    await phone.send("3")
    await run_loops()
    phone.new_messages()
    before = {row.id for row in await outbox(client)}
    fake_twilio.fail_next.extend([500] * 4)  # every try of the gateway's first send fails
    await phone.send("مزید")  # a long detail: several messages
    await run_loops()
    parts = [row for row in await outbox(client) if row.id not in before]
    assert len(parts) > 1
    assert [(row.status, row.attempts) for row in parts] == [("pending", 1)] + [("pending", 0)] * (len(parts) - 1)
    assert phone.new_messages() == []
    clock.advance(timedelta(minutes=1))
    await run_loops()
    parts = [row for row in await outbox(client) if row.id not in before]
    assert {row.status for row in parts} == {"sent"}
    assert phone.new_messages() == [row.body for row in parts]


async def test_a_message_whose_secret_cannot_be_decrypted_fails_alone(
    client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    await research.invite("+447400123460", "D-7")
    await research.invite("+447400123461", "D-8")
    stranger = PhoneVault("a-key-this-service-was-never-configured-with")
    async with client.app[keys.DATABASE].transaction() as session:
        statement = select(OutboxMessage).where(col(OutboxMessage.secret_encrypted).is_not(None))
        row = (await session.exec(statement.order_by(col(OutboxMessage.id)))).first()
        assert row is not None
        row.secret_encrypted = stranger.seal_secret("https://elsewhere.example/i/x", row.reference)
        session.add(row)
    with capture_logs() as logs:
        await run_loops()
    async with client.app[keys.DATABASE].read() as session:
        failed = await session.get(OutboxMessage, row.id)
    assert failed is not None
    assert (failed.status, failed.error_code, failed.secret_encrypted) == ("failed", "undecryptable", None)
    assert fake_twilio.inbox["+447400123460"] == []
    assert len(fake_twilio.inbox["+447400123461"]) >= 1, "the other invitation still went"
    (event,) = [entry for entry in logs if entry["event"] == "outbox.undecryptable"]
    assert event["message"] == row.id
    assert stranger.current_key_id in event["error"]


async def test_after_a_full_round_the_next_claims_without_asking_first(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cohort's messages go in full rounds: asking whether anything is due before each
    one only repeats what the full round said."""
    dispatcher = client.app[keys.DISPATCHER]
    monkeypatch.setattr(dispatcher, "batch", 2)
    numbers = [f"+4474009006{n:02d}" for n in range(5)]
    async with client.app[keys.DATABASE].transaction() as session:
        contacts = ContactRepository(session, dispatcher.vault)
        for number in numbers:
            contact = await contacts.find_or_create(number, clock.now)
            assert contact.id is not None
            outbox = OutboxRepository(session)
            reply = outbox.plan(
                contact_id=contact.id,
                participant_id=None,
                kind=OutboxKind.REPLY,
                body="Thank you.",
                always=False,
                send_after=clock.now,
                now=clock.now,
                max_segments=1,
            )
            await outbox.add_all(reply)
    asked = 0
    any_due = OutboxRepository.any_due

    async def counted(self: OutboxRepository, now: datetime) -> bool:
        nonlocal asked
        asked += 1
        return await any_due(self, now)

    monkeypatch.setattr(OutboxRepository, "any_due", counted)
    await dispatcher.drain()
    assert sorted(number for number in fake_twilio.inbox if number in numbers) == numbers
    # Rounds of 2, 2 and 1: asked before the first, and again once a round was not full.
    assert asked == 2
