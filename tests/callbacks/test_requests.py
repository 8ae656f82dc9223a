"""CALL through the real pipeline: by SMS in two languages, and by the web page's button."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable

import pytest

from consentbot.conversation.vocabulary import Command
from consentbot.domain.callbacks import CallbackStatus
from tests.callbacks.support import requests
from tests.conftest import AppClient
from tests.support.journey import PURPOSES, STUDY, ResearchSystem, link_in, translator, words
from tests.support.twilio_fake import FakeTwilio, TwilioPhone
from tests.web.conftest import Browser

Loops = Callable[[], Awaitable[None]]


@pytest.mark.parametrize(("language", "word"), [("en", "call"), ("ur", "FON KAREN")])
async def test_call_by_sms_queues_one_request_and_changes_no_consent(
    client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops, language: str, word: str
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900201")
    await research.invite(phone.number, "CB-1", language)
    await phone.send(words(language).word(Command.YES))  # questions under way
    await run_loops()
    phone.new_messages()
    before = await research.consent("CB-1")

    await phone.send(word)
    await run_loops()
    acknowledgement = phone.text()
    expected = translator(language).gettext(
        "Thank you. Someone from the study team will phone you back. Expect a call from "
        "{when}. We call {hours}. Nothing about your choices changes on the call."
    ).split("{when}")[0]
    assert acknowledgement.startswith(expected)
    (queued,) = await requests(client)
    assert queued.status is CallbackStatus.OPEN
    assert queued.study_id == STUDY
    assert await research.consent("CB-1") == before
    assert set(before) == set(PURPOSES)

    await phone.send(word)
    await run_loops()
    again = translator(language).gettext(
        "You have already asked us to phone you. Your request is in the queue: "
        "someone from the study team will call you."
    )
    assert phone.text() == again
    assert len(await requests(client)) == 1


async def test_call_from_a_number_in_no_study_queues_nothing(
    client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    """A number not in any study is told what to send; nothing is queued."""
    phone = TwilioPhone(client, fake_twilio, "+447400900202")
    await phone.send("CALL")
    await run_loops()
    assert "which study" in phone.text()
    assert await requests(client) == []


async def test_the_web_button_asks_for_a_call_back(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    number = "+447400900203"
    research = await ResearchSystem.register(web_client)
    await research.invite(number, "CB-3", "cy")
    await run_loops()
    path = link_in(fake_twilio.inbox[number][-1]).removeprefix(str(web_client.make_url("")))
    browser = Browser(web_client, language="cy")
    await browser.open(path)
    button = re.search(
        r'<form class="call-back"[^>]*>.*?<button type="submit" name="text" value="([^"]+)">([^<]+)</button>',
        browser.page,
        re.S,
    )
    assert button is not None
    assert html.unescape(button.group(2)) == translator("cy").gettext("Ask for a call back")
    assert button.group(1) == words("cy").word(Command.CALL)

    reply = await browser.say(button.group(1))
    assert reply.startswith("Diolch.")
    (queued,) = await requests(web_client)
    assert queued.status is CallbackStatus.OPEN
    assert (await research.consent("CB-3"))["records-research"] == "none"


async def test_an_anonymous_visitor_must_check_their_number_first(
    web_client: AppClient,
) -> None:
    browser = Browser(web_client)
    await browser.open()
    assert "need to check your mobile number" in await browser.say("CALL")
    assert await requests(web_client) == []
