"""Twilio failing under the service: busy (500, 429), down for longer, refusing, or silent.

Each test texts the service through a signed webhook and follows the reply through the
outbox and the real TwilioGateway to the fake Twilio API.
"""

from __future__ import annotations

from datetime import timedelta

from consentbot.domain.outbox import OutboxStatus
from consentbot.services.clock import ManualClock
from tests.conftest import settle
from tests.faults.conftest import Service
from tests.faults.records import Records
from tests.support.journey import ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

PHONE = "+447400123456"


async def reply_to_help(service: Service, fake_twilio: FakeTwilio) -> TwilioPhone:
    """A stranger texts HELP; the one-message reply is queued, not yet sent."""
    phone = TwilioPhone(service.client, fake_twilio, PHONE)
    await phone.send("HELP")
    return phone


async def test_busy_twilio_reply_is_retried_with_backoff_and_delivered_once(
    service: Service, fake_twilio: FakeTwilio
) -> None:
    """Promise: a message is sent at most once, and a 500 or 429 is retried, with growing waits."""
    fake_twilio.fail_next.extend([500, 429])
    phone = await reply_to_help(service, fake_twilio)
    await settle(service.client.app)
    (row,) = await Records.of(service.client.app).outbox(PHONE)
    assert service.backoff.delays == [0.5, 1.0]
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
    assert phone.new_messages() == [row.body]
    assert [a.sid for a in fake_twilio.accepted] == [row.provider_id]


async def test_twilio_down_for_longer_is_retried_by_the_outbox_until_it_goes_once(
    service: Service, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """Promise: retryable failures go back to the outbox with a growing delay, never sent twice."""
    fake_twilio.fail_next.extend([503] * 8)  # two rounds of the gateway's four tries
    phone = await reply_to_help(service, fake_twilio)
    records = Records.of(service.client.app)
    waits = []
    for attempt in (1, 2):
        await settle(service.client.app)
        (row,) = await records.outbox(PHONE)
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, attempt)
        waits.append(row.send_after - clock.now)
        await settle(service.client.app)  # not due yet: nothing is tried
        assert (await records.outbox(PHONE))[0].attempts == attempt
        clock.now = row.send_after
    assert waits[1] > waits[0] > timedelta(0)
    await settle(service.client.app)
    (row,) = await records.outbox(PHONE)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 3)
    assert fake_twilio.fail_next == []
    assert phone.new_messages() == [row.body]
    clock.advance(timedelta(days=1))
    await settle(service.client.app)
    assert phone.new_messages() == []


async def test_a_refusal_other_than_429_is_final(
    service: Service, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """Promise: a 4xx that is not 429 is not retried (it would only be refused again)."""
    fake_twilio.reject_next.append(21211)  # "not a valid phone number"
    phone = await reply_to_help(service, fake_twilio)
    await settle(service.client.app)
    clock.advance(timedelta(hours=1))
    await settle(service.client.app)
    (row,) = await Records.of(service.client.app).outbox(PHONE)
    assert (row.status, row.attempts, row.error_code) == (OutboxStatus.FAILED, 1, "21211")
    assert service.backoff.delays == []
    assert fake_twilio.reject_next == []
    assert phone.new_messages() == []


async def test_a_timeout_after_twilio_took_the_message_is_not_resent(
    service: Service, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """Promise: at most once. Twilio has no idempotency key: when the answer to a send never
    comes, the message may have gone, so it is marked ``unknown`` and never sent again."""
    fake_twilio.hang_next = 1
    phone = await reply_to_help(service, fake_twilio)
    await settle(service.client.app)  # waits for the gateway to give up on the answer
    records = Records.of(service.client.app)
    (row,) = await records.outbox(PHONE)
    assert (row.status, row.attempts) == (OutboxStatus.UNKNOWN, 1)
    assert service.backoff.delays == []
    clock.advance(timedelta(days=1))
    await settle(service.client.app)
    assert (await records.outbox(PHONE))[0].status == OutboxStatus.UNKNOWN
    assert phone.new_messages() == [row.body]  # Twilio took it once, and only once

    # The number is not blocked: the next reply goes as usual.
    await phone.send("HELP")
    await settle(service.client.app)
    assert [row.status for row in await records.outbox(PHONE)] == [
        OutboxStatus.UNKNOWN,
        OutboxStatus.SENT,
    ]
    assert len(phone.new_messages()) == 1


async def test_during_an_outage_replies_keep_their_order_and_never_wait_for_our_messages(
    service: Service, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """Promise: one number's messages go in the order they were queued, except that an
    answer to the person never waits behind a message we started (an invitation)."""
    client = service.client
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, PHONE)
    await research.invite(PHONE, "F-1")
    fake_twilio.fail_next.extend([503] * 4)
    await settle(client.app)  # the invitation fails and waits for its retry
    await phone.send("HELP")
    await settle(client.app)
    (help_reply,) = phone.new_messages()
    assert "Reply MORE" not in help_reply  # not the invitation

    fake_twilio.fail_next.extend([503] * 4)
    clock.advance(timedelta(minutes=1))
    await settle(client.app)  # the invitation fails again, and waits again
    await phone.send("MORE")
    await phone.send("1")
    await settle(client.app)
    topics, first_topic = phone.new_messages()
    assert "Reply with a number" in topics
    assert "Who we are and why we wrote" in first_topic
    clock.advance(timedelta(minutes=1))
    await settle(client.app)
    (invitation,) = phone.new_messages()
    assert "Reply MORE to read more" in invitation

    fake_twilio.fail_next.extend([503] * 4)
    await phone.send("MORE")  # this reply fails and waits for its retry ...
    await settle(client.app)
    await phone.send("2")  # ... and the next one waits behind it
    await settle(client.app)
    assert phone.new_messages() == []
    clock.advance(timedelta(minutes=1))
    await settle(client.app)
    *detail, second_topic = phone.new_messages()  # a long detail may take two messages
    assert "Why you:" in "".join(detail)
    assert "What data we use" in second_topic
