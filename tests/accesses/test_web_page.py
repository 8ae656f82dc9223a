"""The web page of who used the person's data: shown after verification, refused before it."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable

from consentbot.services.clock import ManualClock
from tests.accesses.support import active_people, body, record
from tests.accesses.test_who import COMPANY
from tests.conftest import AppClient, settle
from tests.support.journey import STUDY, ResearchSystem, link_in, translator
from tests.support.twilio_fake import FakeTwilio
from tests.web.conftest import Browser

Loops = Callable[[], Awaitable[None]]
PAGE = f"/s/{STUDY}/accesses"


async def test_a_verified_session_sees_the_list(
    web_client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(web_client)
    await active_people(web_client, fake_twilio, clock, research, 1, language="pl")
    await record(web_client, research, body(["P-1"], purpose="commercial-partner", accessor=COMPANY))
    await settle(web_client.app)
    first = fake_twilio.inbox["+447400900001"][0]
    browser = Browser(web_client, language="pl")
    chat = await browser.open(link_in(first).removeprefix(str(web_client.make_url(""))))
    assert f'href="{PAGE}"' in chat  # the chat links to the page once the number is known
    page = html.unescape(await browser.open(PAGE))
    assert browser.status == 200
    assert browser.headers["Cache-Control"] == "no-store"
    t = translator("pl")
    assert t.gettext("Who has used your data") in page
    assert "Acme Ltd" in page
    assert t.gettext("{date}: {organisation}, a company ({name}). Purpose: {purpose}.").split("{organisation}")[1].split("(")[0] in page


async def test_a_session_not_verified_is_refused(
    web_client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(web_client)
    await active_people(web_client, fake_twilio, clock, research, 1)
    await record(web_client, research, body(["P-1"]))
    browser = Browser(web_client)
    chat = await browser.open()
    assert f'href="{PAGE}"' not in chat
    page = html.unescape(await browser.open(PAGE))
    assert browser.status == 403
    assert "To see this list, first check your phone number in the chat." in page
    assert "University of Leeds" not in page
