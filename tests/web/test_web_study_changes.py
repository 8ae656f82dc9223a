"""On the web: a person asked again after a change sees what changed and answers on the page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient
from tests.support.content import sample_copy
from tests.support.journey import ResearchSystem, link_in
from tests.support.study_changes import CHANGE_EN, publish_change
from tests.support.twilio_fake import FakeTwilio
from tests.web.conftest import Browser

Loops = Callable[[], Awaitable[None]]
NUMBER = "+447400900701"
COMMERCIAL = "commercial-partner"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The service on its own copy of content/, which the test changes and publishes."""
    return settings.with_(content_dir=sample_copy(tmp_path / "content"))


async def test_the_page_shows_the_change_and_takes_the_new_answer(
    web_client: AppClient,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
    run_loops: Loops,
) -> None:
    client = web_client
    research = await ResearchSystem.register(client)
    await research.invite(NUMBER, "W-1")
    await run_loops()
    browser = Browser(client)
    await browser.open(
        link_in(fake_twilio.inbox[NUMBER][-1]).removeprefix(str(client.make_url("")))
    )
    for _ in range(6):
        await browser.say("YES")
    clock.advance(timedelta(days=1, hours=1))
    assert "now count" in await browser.say("CONFIRM")
    page = await browser.open()
    assert "This study has changed" not in page

    await publish_change(client)
    await run_loops()
    page = await browser.open()
    assert "This study has changed" in page
    assert CHANGE_EN in page
    assert browser.question.startswith(f"{COMMERCIAL}#")
    assert "do not count yet" in await browser.say("YES")
    assert (await research.consent("W-1"))[COMMERCIAL] == "pending"
    page = await browser.open()
    assert "This study has changed" not in page
