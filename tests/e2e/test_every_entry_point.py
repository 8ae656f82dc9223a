"""One script, every way in: the same ledger, told apart only by channel and identification.

Each entry point (SMS over Twilio, Kannel and the console gateway; the web page linked by a
texted code or by the personal link) drives the same conversation: an invitation, reading,
five answers, the reminder after the time to think, CONFIRM, WITHDRAW. The pipeline is
one, so the ledgers must be equal event for event.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from consentbot.services.clock import ManualClock
from consentbot.testkit.ports import free_port
from tests.conftest import AppClient, WebClientFactory, settle
from tests.support.journey import ResearchSystem, link_in
from tests.support.twilio_fake import FakeTwilio, TwilioPhone
from tests.web.conftest import Browser

NUMBER = "+447400900601"
KANNEL_TOKEN = "entry-point-test-token-0123456789"

SCRIPT = ["MORE", "2", "YES", "YES", "NO", "YES", "NO", "YES"]
"""Read, open a topic, start the questions and answer all five."""

EXPECTED = [
    ("records-research", "answer-yes", "none", "pending", None),
    ("social-care-linkage", "answer-no", "none", "declined", None),
    ("commercial-partner", "answer-yes", "none", "pending", None),
    ("recontact", "answer-no", "none", "declined", None),
    ("updates", "answer-yes", "none", "pending", None),
    ("records-research", "confirm", "pending", "active", None),
    ("commercial-partner", "confirm", "pending", "active", None),
    ("updates", "confirm", "pending", "active", None),
    ("records-research", "withdraw", "active", "withdrawn", "no-further-use"),
    ("commercial-partner", "withdraw", "active", "withdrawn", "no-further-use"),
    ("updates", "withdraw", "active", "withdrawn", "no-further-use"),
]

Say = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class EntryPoint:
    """How a person reaches the service, and what the ledger must say about it."""

    name: str
    gateway: str
    channel: str
    auth: str


ENTRY_POINTS = [
    EntryPoint("twilio", "twilio", "sms:twilio", "sms"),
    EntryPoint("kannel", "kannel", "sms:kannel", "sms"),
    EntryPoint("web-code", "twilio", "web", "sms-code"),
    EntryPoint("web-link", "twilio", "web", "link"),
]
CONSOLE = EntryPoint("console", "console", "sms:console", "sms")
"""The console gateway runs on a developer's own machine with SQLite only (settings refuse
it with PostgreSQL), so its case runs on SQLite alone."""


@pytest.fixture(params=ENTRY_POINTS, ids=[e.name for e in ENTRY_POINTS])
def entry(request: pytest.FixtureRequest) -> EntryPoint:
    chosen: EntryPoint = request.param
    return chosen


@pytest.fixture
async def service(entry: EntryPoint, make_web_client: WebClientFactory) -> AppClient:
    return await make_web_client(
        sms_gateway=entry.gateway,
        kannel_username="consentbot",
        kannel_password="secret",
        kannel_inbound_token=KANNEL_TOKEN,
        # Nothing listens here: Kannel's replies fail and are retried later, which this
        # test does not need (it compares what was decided, not what was delivered).
        kannel_sendsms_url=f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms",
    )


async def sender(entry: EntryPoint, client: AppClient, fake_twilio: FakeTwilio) -> Say:
    """A function that makes the person say something through ``entry``."""
    ids = itertools.count(1)
    if entry.name == "twilio":
        phone = TwilioPhone(client, fake_twilio, NUMBER)

        async def by_twilio(text: str) -> None:
            await phone.send(text)

        return by_twilio
    if entry.name == "kannel":

        async def by_kannel(text: str) -> None:
            query = (
                f"token={KANNEL_TOKEN}&from={quote(NUMBER)}&to=60000&id=k-{next(ids)}"
                f"&coding=0&charset=UTF-8&text={quote(text)}"
            )
            response = await client.get(f"/sms/kannel/inbound?{query}")
            assert response.status == 200, await response.text()

        return by_kannel
    if entry.name == "console":

        async def by_console(text: str) -> None:
            response = await client.post(
                "/sms/console/inbound", data={"From": NUMBER, "Body": text, "MessageId": f"c-{next(ids)}"}
            )
            assert response.status == 200, await response.text()

        return by_console
    browser = Browser(client)
    if entry.name == "web-link":
        link = link_in(fake_twilio.inbox[NUMBER][-1])
        await browser.open(link.removeprefix(str(client.make_url(""))))
    else:
        await browser.open()

        async def send() -> None:
            await settle(client.app)

        await browser.verify(NUMBER, fake_twilio, send)

    async def by_web(text: str) -> None:
        await browser.say(text)

    return by_web


async def test_one_script_through_every_entry_point_writes_the_same_ledger(
    entry: EntryPoint, service: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await walk_the_script(entry, service, fake_twilio, clock)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("entry", [CONSOLE], ids=["console"])
async def test_the_console_gateway_writes_the_same_ledger(
    entry: EntryPoint, service: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await walk_the_script(entry, service, fake_twilio, clock)


async def walk_the_script(
    entry: EntryPoint, service: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """Invite, read, answer, wait for the reminder, confirm, withdraw; then check the ledger."""
    research = await ResearchSystem.register(service)
    await research.invite(NUMBER, "E-1")
    await settle(service.app)
    say = await sender(entry, service, fake_twilio)
    for text in SCRIPT:
        await say(text)
    await settle(service.app)
    clock.advance(timedelta(days=1, minutes=1))
    await settle(service.app)  # the reminder to confirm, from the scheduler
    await say("CONFIRM")
    await say("WITHDRAW")

    history: list[dict[str, Any]] = await research.history("E-1")
    assert [
        (e["purpose"], e["action"], e["from"], e["to"], e["withdrawal_level"]) for e in history
    ] == EXPECTED
    assert {(e["channel"], e["auth"], e["actor"]) for e in history} == {
        (entry.channel, entry.auth, "participant")
    }
    assert all(e["assisted_by"] is None for e in history)
    pending = [e for e in history if e["to"] == "pending"]
    assert all(e["content_version"] == 1 for e in history)
    assert len(pending) == 3
    assert await research.consent("E-1") == {
        "records-research": "withdrawn",
        "social-care-linkage": "declined",
        "commercial-partner": "withdrawn",
        "recontact": "declined",
        "updates": "withdrawn",
    }
