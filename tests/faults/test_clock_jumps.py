"""The clock jumps: backwards (a corrected server clock), forwards (downtime, a suspended VM).

Whatever the clock does, a yes counts only after YES, then CONFIRM after the cooling-off
the person was promised; timers run once each; nothing is said in the wrong order.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from consentbot import keys
from consentbot.domain.outbox import OutboxStatus
from consentbot.domain.timers import TimerKind, TimerStatus
from consentbot.services.clock import ManualClock
from tests.conftest import AppClient, settle
from tests.faults.conftest import Service
from tests.faults.records import Records
from tests.support.journey import STUDY
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

REQUIRED_ONLY = ["JOINTS", "YES", "YES", "NO", "NO", "NO", "NO"]
"""Join by keyword, then yes to the required purpose only."""
REMINDER = "reply CONFIRM by"
EXPIRED = "not confirmed in time"


def cooling_off(client: AppClient) -> timedelta:
    study = client.app[keys.STUDIES].get(STUDY)
    assert study is not None
    return study.cooling_off.period


def confirm_within(client: AppClient) -> timedelta:
    study = client.app[keys.STUDIES].get(STUDY)
    assert study is not None
    return study.cooling_off.confirm_within


async def say_yes(phone: TwilioPhone) -> None:
    for text in REQUIRED_ONLY:
        await phone.send(text)
    await settle(phone.client.app)
    phone.new_messages()


async def exchange(phone: TwilioPhone, text: str) -> str:
    """Text ``text`` and return the reply (after the outbox has sent it)."""
    await phone.send(text)
    await settle(phone.client.app)
    return phone.text()


async def test_clock_going_back_after_a_yes_does_not_shorten_the_time_to_think(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """Promise: a yes counts only after CONFIRM once the cooling-off from the YES is over,
    even when the clock is set back after the YES."""
    phone = TwilioPhone(client, fake_twilio, "+447400123456")
    records = Records.of(client.app)
    said_yes_at = clock.now
    await say_yes(phone)
    clock.now = said_yes_at - timedelta(hours=3)
    assert "Not yet" in await exchange(phone, "CONFIRM")
    clock.now = said_yes_at + cooling_off(client) - timedelta(minutes=1)
    await settle(client.app)
    assert phone.new_messages() == []  # no reminder before its time either
    assert "Not yet" in await exchange(phone, "CONFIRM")
    assert await records.consent(phone.number) == {
        "records-research": "pending",
        "social-care-linkage": "declined",
        "commercial-partner": "declined",
        "recontact": "declined",
        "updates": "declined",
    }
    clock.now = said_yes_at + cooling_off(client)
    await settle(client.app)
    assert REMINDER in phone.text()
    assert "now counts" in await exchange(phone, "CONFIRM")
    assert (await records.consent(phone.number))["records-research"] == "active"
    assert [(e.action, e.to_status) for e in await records.ledger(phone.number)][-1] == (
        "confirm",
        "active",
    )


async def test_clock_jumping_past_the_deadline_expires_the_yes_once_and_in_order(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """Promise: a pending yes not confirmed in time expires (exactly once, even with two
    schedulers at it); the overdue reminder is not sent after (nor just before) the expiry
    notice, since the CONFIRM it asks for would fail; CONFIRM after that is refused."""
    phone = TwilioPhone(client, fake_twilio, "+447400123457")
    records = Records.of(client.app)
    said_yes_at = clock.now
    await say_yes(phone)
    # Down (or suspended) from before the reminder until after the deadline.
    clock.now = said_yes_at + cooling_off(client) + confirm_within(client) + timedelta(hours=1)
    timers = client.app[keys.TIMERS]
    ran = await asyncio.gather(timers.run_due(), timers.run_due())
    assert sum(ran) == 2  # the reminder and the expiry, each by one scheduler
    await settle(client.app)
    await settle(client.app)
    (notice,) = phone.new_messages()  # no reminder asking for a CONFIRM that would fail
    assert EXPIRED in notice
    expiries = [e for e in await records.ledger(phone.number) if e.action == "expire"]
    assert [(e.purpose_id, e.from_status, e.to_status) for e in expiries] == [
        ("records-research", "pending", "expired")
    ]
    assert "nothing waiting to be confirmed" in await exchange(phone, "CONFIRM")
    assert (await records.consent(phone.number))["records-research"] == "expired"
    assert [e.action for e in await records.ledger(phone.number)][-1] == "expire"


async def test_a_reminder_held_up_by_twilio_never_follows_the_expiry_notice(
    service: Service, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """Promise: one number's messages go in the order they were queued. The reminder, due
    just before the deadline, meets a busy Twilio and waits for its retry; the expiry
    notice queued meanwhile waits behind it rather than overtaking it."""
    client = service.client
    phone = TwilioPhone(client, fake_twilio, "+447400123461")
    said_yes_at = clock.now
    await say_yes(phone)
    deadline = said_yes_at + cooling_off(client) + confirm_within(client)
    clock.now = deadline - timedelta(seconds=1)
    fake_twilio.fail_next.extend([503] * 4)  # every try of the gateway's first round
    await settle(client.app)
    assert phone.new_messages() == []
    clock.now = deadline
    await settle(client.app)  # the expiry runs; its notice must not go first
    clock.now = deadline + timedelta(minutes=1)
    await settle(client.app)
    reminder, notice = phone.new_messages()
    assert REMINDER in reminder
    assert EXPIRED in notice
    rows = await Records.of(client.app).outbox(phone.number)
    assert [row.status for row in rows][-2:] == [OutboxStatus.SENT, OutboxStatus.SENT]


async def test_clock_jumping_a_week_runs_each_due_timer_once(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """Promise: timers live in the database and each runs once, however late and however
    many schedulers look at once; a timer not yet due stays put."""
    answered = TwilioPhone(client, fake_twilio, "+447400123458")
    later = TwilioPhone(client, fake_twilio, "+447400123459")
    stopped = TwilioPhone(client, fake_twilio, "+447400123460")
    await say_yes(answered)
    await say_yes(stopped)
    await stopped.send("STOP")
    await later.send("JOINTS")
    await later.send("LATER")
    await settle(client.app)
    for phone in (answered, later, stopped):
        phone.new_messages()

    clock.advance(timedelta(weeks=1))
    timers = client.app[keys.TIMERS]
    ran = await asyncio.gather(*(timers.run_due() for _ in range(3)))
    await settle(client.app)
    await settle(client.app)

    assert sum(ran) == 2  # the reminder and the LATER; the stopped number's reminder was cancelled
    assert [REMINDER in text for text in answered.new_messages()] == [True]
    assert ["You asked us to remind you" in text for text in later.new_messages()] == [True]
    assert stopped.new_messages() == []
    by_kind: dict[tuple[TimerKind, TimerStatus], int] = {}
    for timer in await Records.of(client.app).timers():
        by_kind[timer.kind, timer.status] = by_kind.get((timer.kind, timer.status), 0) + 1
    assert by_kind == {
        (TimerKind.CONFIRM_REMINDER, TimerStatus.DONE): 1,
        (TimerKind.CONFIRM_REMINDER, TimerStatus.CANCELLED): 1,
        (TimerKind.LATER, TimerStatus.DONE): 1,
        (TimerKind.EXPIRY, TimerStatus.PENDING): 2,  # due after two weeks, not one
    }
