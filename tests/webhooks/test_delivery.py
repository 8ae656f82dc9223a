"""Deliveries: written with the change, in order per participant, retried, given up on after 3 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from consentbot import keys
from consentbot.domain.provenance import Auth
from consentbot.domain.webhooks import GIVE_UP_AFTER, DeliveryStatus
from consentbot.services.clock import ManualClock
from consentbot.services.console import problems
from consentbot.store.ledger import LedgerRepository, NewEvent
from consentbot.store.tables import ConsentEvent, Participant, WebhookDelivery
from tests.conftest import AppClient
from tests.support.journey import STUDY, ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone
from tests.webhooks.support import Receiver, add_webhook, deliveries


async def joined(client: AppClient, fake_twilio: FakeTwilio, reference: str, number: str, yeses: int) -> TwilioPhone:
    """Invited, then a YES to start and ``yeses`` answers YES: one ledger event (pending) each."""
    research = await ResearchSystem.register(client)
    await research.invite(number, reference)
    phone = TwilioPhone(client, fake_twilio, number)
    for _ in range(yeses + 1):
        await phone.send("YES")
    return phone


def event(clock: ManualClock) -> NewEvent:
    return NewEvent(
        purpose_id="records-research", action="answer-yes", from_status="none",
        to_status="pending", withdrawal_level=None, content_version=1, content_digest="0" * 64,
        language="en", channel="sms:twilio", actor="participant", auth=Auth.SMS,
        assisted_by=None, occurred_at=clock(), pending_since=clock(),
    )


class Boom(Exception):
    pass


async def test_a_delivery_is_written_with_its_event_or_not_at_all(
    client: AppClient, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    _hooks, url = receiver
    first, _ = await add_webhook(client, url, STUDY)
    second, _ = await add_webhook(client, url + "?second", STUDY)
    removed, _ = await add_webhook(client, url + "?removed", STUDY)
    await client.app[keys.WEBHOOKS].remove(removed)
    research = await ResearchSystem.register(client)
    await research.invite("+447400900111", "A-1")
    db = client.app[keys.DATABASE]

    async def failing_turn() -> None:
        async with db.transaction() as session:
            (participant,) = (await session.exec(select(Participant))).all()
            await LedgerRepository(session).append(participant, event(clock))
            assert len((await session.exec(select(ConsentEvent))).all()) == 1
            assert len((await session.exec(select(WebhookDelivery))).all()) == 2
            raise Boom  # the turn fails after writing: everything goes

    with pytest.raises(Boom):
        await failing_turn()
    assert await deliveries(client) == []
    async with db.transaction() as session:
        (participant,) = (await session.exec(select(Participant))).all()
        written = await LedgerRepository(session).append(participant, event(clock))
    queued = await deliveries(client)
    assert sorted(d.webhook_id for d in queued) == [first, second]  # not the removed one
    assert {d.body for d in queued} == {queued[0].body}
    assert written.hash in queued[0].body
    assert all(d.status is DeliveryStatus.PENDING and d.next_attempt_at == clock() for d in queued)


async def test_in_order_per_participant_and_retried_after_a_500(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    hooks, url = receiver
    await add_webhook(client, url, STUDY)
    deliverer = client.app[keys.WEBHOOK_DELIVERIES]
    deliverer.jitter = lambda: 0.0
    await joined(client, fake_twilio, "O-1", "+447400900121", yeses=2)
    await joined(client, fake_twilio, "O-2", "+447400900122", yeses=1)
    hooks.refusing = {"O-1"}  # the receiver has a bad moment with O-1
    assert await deliverer.deliver_once() == 1
    # O-1's second change waited behind the first; O-2 did not wait for O-1.
    assert [(p["participant"], p["purpose"]) for p in hooks.payloads()] == [
        ("O-1", "records-research"),
        ("O-2", "records-research"),
    ]
    one, two, three = await deliveries(client)
    assert (one.status, one.attempts, one.last_error) == (DeliveryStatus.PENDING, 1, "HTTP 500")
    assert one.next_attempt_at == clock() + timedelta(seconds=5)
    assert (two.status, two.attempts) == (DeliveryStatus.PENDING, 0)
    assert three.status is DeliveryStatus.DELIVERED
    assert await deliverer.deliver_once() == 0  # nothing is due before the backoff ends
    assert len(hooks.received) == 2
    clock.advance(timedelta(seconds=5))
    hooks.refusing.clear()
    await deliverer.deliver_due()
    assert [(p["participant"], p["purpose"]) for p in hooks.payloads()[2:]] == [
        ("O-1", "records-research"),
        ("O-1", "social-care-linkage"),
    ]
    # The retry is the same message: a receiver that got it once can drop it.
    assert hooks.received[0].headers["webhook-id"] == hooks.received[2].headers["webhook-id"]
    assert hooks.received[0].body == hooks.received[2].body
    assert [d.status for d in await deliveries(client)] == [DeliveryStatus.DELIVERED] * 3
    (status,) = await client.app[keys.WEBHOOKS].status(STUDY)
    assert (status.counts.delivered, status.counts.failed, status.counts.backlog) == (3, 0, 0)


async def test_given_up_after_three_days_then_the_next_change_goes(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    hooks, url = receiver
    await add_webhook(client, url, STUDY)
    deliverer = client.app[keys.WEBHOOK_DELIVERIES]
    deliverer.jitter = lambda: 0.0
    phone = await joined(client, fake_twilio, "G-1", "+447400900131", yeses=1)
    (queued,) = await deliveries(client)
    hooks.refusing = {"G-1"}
    waits = []
    while True:
        assert await deliverer.deliver_once() == 0
        (delivery,) = await deliveries(client)
        if delivery.status is not DeliveryStatus.PENDING:
            break
        waits.append(delivery.next_attempt_at - clock())
        clock.now = delivery.next_attempt_at
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_attempt_at == queued.created_at + GIVE_UP_AFTER
    assert waits[:4] == [timedelta(seconds=s) for s in (5, 10, 20, 40)]
    assert max(waits) == timedelta(hours=1)
    assert delivery.attempts == len(hooks.received) == len(waits) + 1
    (status,) = await client.app[keys.WEBHOOKS].status(STUDY)
    assert (status.counts.failed, status.counts.backlog, status.counts.delivered) == (1, 0, 0)
    async with client.app[keys.DATABASE].read() as session:
        assert (await problems(session, STUDY)).webhook_failures == 1
    # A failed delivery does not hold the participant's later changes back.
    hooks.refusing.clear()
    await phone.send("YES")
    await deliverer.deliver_due()
    assert hooks.payloads()[-1]["purpose"] == "social-care-linkage"
    assert [d.status for d in await deliveries(client)] == [DeliveryStatus.FAILED, DeliveryStatus.DELIVERED]


async def test_a_removed_webhook_gets_nothing_more(
    client: AppClient, fake_twilio: FakeTwilio, receiver: tuple[Receiver, str]
) -> None:
    hooks, url = receiver
    webhook_id, _ = await add_webhook(client, url, STUDY)
    await joined(client, fake_twilio, "R-1", "+447400900141", yeses=1)
    _info, cancelled = await client.app[keys.WEBHOOKS].remove(webhook_id)
    assert cancelled == 1
    assert await client.app[keys.WEBHOOK_DELIVERIES].deliver_once() == 0
    assert hooks.received == []
    assert [d.status for d in await deliveries(client)] == [DeliveryStatus.CANCELLED]
