"""The funnel's "read" step: a participant's first turn that shows a topic is recorded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlmodel import select

from consentbot import keys
from consentbot.services.clock import ManualClock
from consentbot.store.tables import Participant
from tests.conftest import AppClient
from tests.support.journey import ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

Loops = Callable[[], Awaitable[None]]


async def first_read(client: AppClient) -> object:
    async with client.app[keys.DATABASE].read() as session:
        return (await session.exec(select(Participant.first_read_at))).one()


async def test_the_first_topic_opened_sets_first_read_at_once(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900301")
    await research.invite(phone.number, "P-0301")
    await run_loops()
    await phone.send("MORE")  # the list of topics: not a topic yet
    assert await first_read(client) is None
    opened = clock()
    await phone.send("1")
    assert await first_read(client) == opened
    clock.advance(timedelta(hours=1))
    await phone.send("MORE")  # deeper into the topic: the first time stays
    assert await first_read(client) == opened
