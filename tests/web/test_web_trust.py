"""The web page tried as an attacker, or a clumsy double-clicker, would.

Answers land only on the question the person saw; a form counts once; a personal link
opens one browser; only the phone lifts a STOP sent from the phone; and nobody can make
the service text a stranger beyond strict limits.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from sqlmodel import select
from structlog.testing import capture_logs

from consentbot import keys
from consentbot.settings import Settings
from consentbot.store.tables import Contact, Participant
from tests.conftest import AppClient
from tests.support.journey import STUDY, ResearchSystem, link_in
from tests.support.twilio_fake import FakeTwilio, TwilioPhone
from tests.web.conftest import CODE, Browser

Loops = Callable[[], Awaitable[None]]

CODE_SENT = "If we can text that number, we have sent it a code"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A small service budget so a test can reach it; the test client's address plays the
    # part of a trusted reverse proxy that appends the real client to X-Forwarded-For.
    return settings.with_(code_sms_per_hour=12, trusted_proxies=("127.0.0.1",))


async def only_participant(client: AppClient) -> str:
    async with client.app[keys.DATABASE].read() as session:
        (participant,) = (await session.exec(select(Participant))).all()
        return participant.reference


async def fresh_visitor(client: AppClient) -> Browser:
    """A new browser: no session cookie, no pre-session token."""
    client.session.cookie_jar.clear()
    browser = Browser(client)
    await browser.open()
    return browser


async def ask_for_code(client: AppClient, browser: Browser, number: str, **headers: str) -> str:
    response = await client.post(
        f"/s/{STUDY}/verify",
        data={"csrf": browser.csrf, "form": browser.form_id, "phone": number},
        headers=headers,
    )
    return await response.text()


async def test_a_repeated_form_counts_once(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    browser = Browser(web_client)
    await browser.open()
    await browser.say("YES")
    await browser.verify("+447400900901", fake_twilio, run_loops)
    assert "Question 1 of 5" in browser.last_reply()
    form = {"csrf": browser.csrf, "form": browser.form_id, "question": browser.question, "text": "YES"}
    for _ in range(2):  # a double click, or the script re-posting the form after a fetch error
        response = await web_client.post(f"/s/{STUDY}/messages", data=form)
        assert response.status == 200
    research = await ResearchSystem.register(web_client)
    history = await research.history(await only_participant(web_client))
    assert [e["purpose"] for e in history] == ["records-research"]  # never question 2 as well


async def test_an_answer_to_a_question_that_moved_on_is_not_applied(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    number = "+447400900902"
    browser = Browser(web_client)
    await browser.open()
    await browser.say("YES")
    await browser.verify(number, fake_twilio, run_loops)
    stale_question = browser.question  # question 1, as this page shows it
    # Meanwhile the person answers question 1 by SMS.
    await TwilioPhone(web_client, fake_twilio, number).send("YES")
    await browser.post("messages", text="NO", question=stale_question)
    reply = browser.last_reply()
    assert "moved on" in reply
    assert "Question 2 of 5" in reply
    research = await ResearchSystem.register(web_client)
    consent = await research.consent(await only_participant(web_client))
    assert consent["records-research"] == "pending"  # the web NO did not withdraw it
    assert consent["social-care-linkage"] == "none"  # nor answer question 2


async def test_a_waiting_answer_does_not_land_on_the_sms_conversations_question(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    number = "+447400900903"
    research = await ResearchSystem.register(web_client)
    await research.invite(number, "W-3", "pl")
    phone = TwilioPhone(web_client, fake_twilio, number)
    await phone.send("TAK")
    await phone.send("TAK")  # by SMS: question 1 answered, question 2 waiting
    browser = Browser(web_client)  # an English browser, not linked yet
    await browser.open()
    await browser.say("NO")  # meant as "no, I do not want to take part", to no question
    await browser.verify(number, fake_twilio, run_loops)
    consent = await research.consent("W-3")
    assert consent["social-care-linkage"] == "none"
    assert consent["records-research"] == "pending"
    assert '<html lang="pl"' in browser.page  # linking kept the person's language
    assert "Pytanie 2 z 5" in browser.last_reply()


async def test_a_language_chosen_on_the_page_is_kept_when_linking(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    number = "+447400900904"
    research = await ResearchSystem.register(web_client)
    await research.invite(number, "W-4", "pl")
    browser = Browser(web_client)
    await browser.open()
    await browser.post("language", language="cy")
    await browser.say("IE")
    await browser.verify(number, fake_twilio, run_loops)
    assert '<html lang="cy"' in browser.page
    phone = TwilioPhone(web_client, fake_twilio, number)
    phone.new_messages()
    await phone.send("CYMORTH")
    await run_loops()
    assert "GADAEL" in phone.text()  # SMS follows the language the person picked


async def test_only_the_phone_lifts_a_stop_sent_from_the_phone(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    number = "+447400900905"
    browser = Browser(web_client)
    await browser.open()
    await browser.say("MORE")
    await browser.verify(number, fake_twilio, run_loops)
    phone = TwilioPhone(web_client, fake_twilio, number)
    await phone.send("STOP")
    reply = await browser.say("START")
    assert "text START to us from it" in reply
    async with web_client.app[keys.DATABASE].read() as session:
        (contact,) = (await session.exec(select(Contact))).all()
        assert contact.stopped
    # A STOP asked for on the page may be lifted on the page.
    await phone.send("START")
    await browser.say("STOP")
    assert "You will get messages from us again" in await browser.say("START")


async def test_a_personal_link_opens_one_browser_and_dies_with_withdraw(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    number = "+447400900906"
    research = await ResearchSystem.register(web_client)
    await research.invite(number, "W-6")
    await run_loops()
    path = link_in(fake_twilio.inbox[number][-1]).removeprefix(str(web_client.make_url("")))
    first = Browser(web_client)
    await first.open(path)
    assert "need to check" not in await first.say("YES")  # linked by the link

    # Anyone else who gets hold of the link (a forwarded SMS, a shared computer's history)
    # sees the study, and has to prove the number like any visitor.
    other = await fresh_visitor(web_client)
    response = await web_client.get(path, allow_redirects=False)
    assert response.headers["Location"] == f"/s/{STUDY}?notice=link-elsewhere"
    await other.open(f"/s/{STUDY}?notice=link-elsewhere")
    assert "first opened in another browser" in other.page
    assert "need to check your mobile number" in await other.say("YES")
    assert (await research.consent("W-6"))["social-care-linkage"] == "none"

    # Withdrawing by SMS revokes the link everywhere.
    await TwilioPhone(web_client, fake_twilio, number).send("WITHDRAW")
    web_client.session.cookie_jar.clear()
    revoked = await web_client.get(path)
    assert revoked.status == 404


async def test_stop_revokes_personal_links(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    number = "+447400900907"
    research = await ResearchSystem.register(web_client)
    await research.invite(number, "W-7")
    await run_loops()
    path = link_in(fake_twilio.inbox[number][-1]).removeprefix(str(web_client.make_url("")))
    await TwilioPhone(web_client, fake_twilio, number).send("STOP")
    assert (await web_client.get(path)).status == 404


@pytest.mark.parametrize(
    "number", ["+2348031234567", "+441610000000", "07700 900123", "+8821234567"]
)
async def test_codes_go_only_to_uk_mobiles(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops, number: str
) -> None:
    browser = Browser(web_client)
    await browser.open()
    await browser.say("YES")
    await browser.post("verify", phone=number)
    assert "We can only text mobile numbers from United Kingdom" in browser.page
    await run_loops()
    assert sum(len(texts) for texts in fake_twilio.inbox.values()) == 0


async def test_the_form_says_the_same_for_stopped_unknown_and_known_numbers(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    stopped, known, unknown = "+447400900911", "+447400900912", "+447400900913"
    phone = TwilioPhone(web_client, fake_twilio, stopped)
    await phone.send("STOP")
    research = await ResearchSystem.register(web_client)
    await research.invite(known, "W-12")
    await run_loops()
    pages = []
    for number in (stopped, known, unknown):
        browser = await fresh_visitor(web_client)
        await browser.say("YES")
        await browser.post("verify", phone=number)
        notice = re.search(r'<p class="notice" role="status">(.*?)</p>', browser.page)
        assert notice is not None
        pages.append(notice.group(1))
    assert len(set(pages)) == 1
    assert CODE_SENT in pages[0]
    await run_loops()
    assert not any(CODE.search(text) for text in fake_twilio.inbox[stopped][1:])
    code_sms = fake_twilio.inbox[unknown][-1]
    assert "Northern Pennines Joint Health Records" in code_sms  # names the study
    assert "Never share it" in code_sms


async def test_codes_per_client_address_are_limited_whatever_the_client_claims(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    # Ten fresh sessions from one client, each asking for a new number, each claiming
    # another address in X-Forwarded-For: the proxy appended the real one, which decides.
    for n in range(11):
        browser = await fresh_visitor(web_client)
        claimed = {"X-Forwarded-For": f"192.0.2.{n}, 198.51.100.23"}
        number = f"+4474009009{20 + n:02d}" if n < 10 else "+447400900940"
        page = await ask_for_code(web_client, browser, number, **claimed)
        if n < 10:
            assert CODE_SENT in page
    assert "We have sent too many codes" in page
    await run_loops()
    assert "+447400900940" not in fake_twilio.inbox


async def test_the_service_budget_stops_codes_and_raises_an_alert_without_numbers(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    # Behind a trusted proxy each client has its own address, so only the service-wide
    # hourly budget (12 in this test) is left to stop a crowd.
    with capture_logs() as logs:
        for n in range(13):
            browser = await fresh_visitor(web_client)
            client = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
            page = await ask_for_code(web_client, browser, f"+4474009009{50 + n:02d}", **client)
    assert "Many people are asking for codes just now" in page
    assert [log for log in logs if log["event"] == "verification.service_budget_reached"]
    assert "7400900962" not in repr(logs)
    await run_loops()
    assert "+447400900962" not in fake_twilio.inbox
    assert len([n for n in fake_twilio.inbox if n.startswith("+4474009009")]) == 12


async def test_a_form_without_its_one_time_id_is_refused(web_client: AppClient) -> None:
    browser = Browser(web_client)
    await browser.open()
    response = await web_client.post(
        f"/s/{STUDY}/messages", data={"csrf": browser.csrf, "text": "MORE"}
    )
    assert response.status == 403
