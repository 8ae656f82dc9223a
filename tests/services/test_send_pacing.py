"""CONSENTBOT_SEND_RATE: messages we start are paced; replies to someone who wrote are not."""

from __future__ import annotations

from datetime import timedelta

from consentbot import keys
from consentbot.services.clock import ManualClock
from consentbot.services.dispatcher import OutboxDispatcher
from tests.conftest import AppClient
from tests.support.journey import ResearchSystem
from tests.support.stopwatch import Stopwatch
from tests.support.twilio_fake import FakeTwilio, TwilioPhone


def paced(client: AppClient, rate: float, watch: Stopwatch) -> OutboxDispatcher:
    """A dispatcher on the app's database and gateway, sending at ``rate`` by ``watch``."""
    app = client.app[keys.DISPATCHER]
    return OutboxDispatcher(
        app.db, app.gateway, app.vault, app.clock, app.studies, send_rate=rate, monotonic=watch
    )


async def test_invitations_go_at_the_send_rate(client: AppClient, fake_twilio: FakeTwilio) -> None:
    research = await ResearchSystem.register(client)
    numbers = [f"+4474009007{n:02d}" for n in range(5)]
    for index, number in enumerate(numbers):
        await research.invite(number, f"R-{index}")
    watch = Stopwatch()
    dispatcher = paced(client, 10, watch)  # one every tenth of a second

    assert await dispatcher.dispatch_once() == 1
    assert await dispatcher.dispatch_once() == 0
    assert dispatcher.paced
    assert dispatcher.pause(1.0) == 0.1  # the run loop wakes when the next may go
    watch.now = 0.1
    assert await dispatcher.dispatch_once() == 1
    watch.now = 0.45  # later, but the bucket holds one: time unused is not saved up
    for _ in range(5):
        await dispatcher.dispatch_once()
    assert len(fake_twilio.accepted) == 3
    for moment in (0.55, 0.65):
        watch.now = moment
        await dispatcher.dispatch_once()
    assert sorted(message.to for message in fake_twilio.accepted) == numbers
    assert await dispatcher.dispatch_once() == 0
    assert not dispatcher.paced
    assert dispatcher.pause(1.0) == 1.0


async def test_a_reply_is_not_held_back_by_invitations_waiting_for_the_rate(
    client: AppClient, fake_twilio: FakeTwilio
) -> None:
    research = await ResearchSystem.register(client)
    for index in range(3):
        await research.invite(f"+4474009008{index:02d}", f"W-{index}")
    watch = Stopwatch()
    dispatcher = paced(client, 1, watch)
    await dispatcher.dispatch_once()  # the first invitation takes the only token
    first = fake_twilio.accepted[0].to
    phone = TwilioPhone(client, fake_twilio, first)
    await phone.send("MORE")
    assert await dispatcher.dispatch_once() >= 1  # the reply, at once, with no token left
    assert len(phone.new_messages()) >= 2  # the invitation, then the reply
    assert len(fake_twilio.accepted) - len(fake_twilio.inbox[first]) == 0
    assert dispatcher.paced


async def test_two_processes_together_keep_to_the_rate(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """``serve`` and ``consentbot invite --file`` each run a dispatcher on one database:
    each bucket alone would let both send at the full rate."""
    research = await ResearchSystem.register(client)
    numbers = [f"+4474009009{n:02d}" for n in range(8)]
    for index, number in enumerate(numbers):
        await research.invite(number, f"T-{index}")
    serve_watch, cohort_watch = Stopwatch(), Stopwatch()
    serve, cohort = paced(client, 2, serve_watch), paced(client, 2, cohort_watch)
    step = timedelta(seconds=0.25)
    sent_by_step: list[int] = []
    for _ in range(32):
        before = len(fake_twilio.accepted)
        await serve.dispatch_once()
        await cohort.dispatch_once()
        sent_by_step.append(len(fake_twilio.accepted) - before)
        clock.advance(step)
        serve_watch.now += 0.25
        cohort_watch.now += 0.25
    assert sorted(message.to for message in fake_twilio.accepted) == numbers
    per_second = [sum(sent_by_step[start : start + 4]) for start in range(len(sent_by_step))]
    assert max(per_second) == 2, sent_by_step


async def test_a_dispatcher_waits_until_the_shared_window_frees(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    for index in range(3):
        await research.invite(f"+4474009010{index:02d}", f"F-{index}")
    other, mine = paced(client, 1, Stopwatch()), paced(client, 1, Stopwatch())
    assert await other.dispatch_once() == 1  # another process takes this second's message
    clock.advance(timedelta(seconds=0.25))
    assert await mine.dispatch_once() == 0  # its own bucket has a token; the shared window has none
    assert mine.paced
    assert mine.pause(5.0) == 0.75  # until the other's message leaves the window
    clock.advance(timedelta(seconds=0.75))
    assert await mine.dispatch_once() == 1
    assert len(fake_twilio.accepted) == 2
