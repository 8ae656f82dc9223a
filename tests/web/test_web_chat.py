"""The web chat through HTTP: anonymous reading, verification, personal links, security."""

from __future__ import annotations

import re
import shutil
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import yaml
from sqlmodel import select
from structlog.testing import capture_logs

from consentbot import keys
from consentbot.conversation.vocabulary import Command
from consentbot.services.clock import ManualClock
from consentbot.store.tables import Participant, WebSession
from tests.conftest import AppClient, WebClientFactory
from tests.support.journey import ROOT, STUDY, ResearchSystem, link_in, translator, words
from tests.support.twilio_fake import FakeTwilio, TwilioPhone
from tests.web.conftest import Browser

Loops = Callable[[], Awaitable[None]]
CODE = re.compile(r"\b(\d{6})\b")


async def participants(client: AppClient) -> list[Participant]:
    async with client.app[keys.DATABASE].transaction() as session:
        return list((await session.exec(select(Participant))).all())


async def web_sessions(client: AppClient) -> int:
    async with client.app[keys.DATABASE].read() as session:
        return len((await session.exec(select(WebSession))).all())


async def verify(browser: Browser, fake_twilio: FakeTwilio, run_loops: Loops, number: str) -> None:
    await browser.post("verify", phone=number)
    assert 'id="code"' in browser.page  # the page now asks for the code
    await browser.verify(number, fake_twilio, run_loops)


async def test_reading_anonymously_in_the_browsers_language(web_client: AppClient) -> None:
    browser = Browser(web_client, language="pl-PL,pl;q=0.9,en;q=0.5")
    page = await browser.open()
    study = web_client.app[keys.STUDIES].get(STUDY)
    assert study is not None
    assert '<html lang="pl" dir="ltr">' in page
    assert study.text("pl").title in page
    assert all(topic.detail.split("\n")[0][:40] in page for topic in study.text("pl").topics)
    # Reading writes nothing: the page carries a CSRF token in a cookie, not a session.
    assert browser.headers["Set-Cookie"].startswith("consentbot_csrf=")
    assert await web_sessions(web_client) == 0
    await browser.open()
    assert await web_sessions(web_client) == 0
    reply = await browser.say("WIĘCEJ")
    assert study.text("pl").topics[0].title in reply
    assert await web_sessions(web_client) == 1  # the first form started the session
    assert await participants(web_client) == []


async def test_urdu_is_right_to_left(web_client: AppClient) -> None:
    page = await Browser(web_client, language="ur").open()
    assert '<html lang="ur" dir="rtl">' in page


async def test_unoffered_language_falls_back_to_the_default(web_client: AppClient) -> None:
    assert '<html lang="en" dir="ltr">' in await Browser(web_client, language="fr,de;q=0.8").open()


async def test_answers_wait_for_a_verified_number_then_count(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    browser = Browser(web_client)
    await browser.open()
    reply = await browser.say("YES")
    assert "need to check your mobile number" in reply
    assert 'id="phone"' in browser.page
    assert await participants(web_client) == []
    await browser.post("verify", phone="07400 900701")
    await run_loops()
    await browser.post(
        "verify/code",
        code="000000" if "000000" not in fake_twilio.inbox["+447400900701"][-1] else "111111",
    )
    assert "That code is not right" in browser.page
    await browser.post("verify", phone="07400 900701")
    await run_loops()
    code = CODE.search(fake_twilio.inbox["+447400900701"][-1])
    assert code is not None
    await browser.post("verify/code", code=code.group(1))
    messages = browser.messages()
    assert "Your number is checked" in messages[-2]
    assert "Question 1 of 5" in messages[-1]  # the waiting YES was replayed
    assert 'id="phone"' not in browser.page
    (participant,) = await participants(web_client)
    assert participant.joined_by == "web"
    await browser.say("YES")
    research = await ResearchSystem.register(web_client)
    assert (await research.consent(participant.reference))["records-research"] == "pending"
    assert (await research.history(participant.reference))[0]["channel"] == "web"


async def test_codes_are_rate_limited_and_attempts_counted(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    browser = Browser(web_client)
    await browser.open()
    await browser.say("YES")
    for _ in range(3):
        await browser.post("verify", phone="+447400900702")
        assert "we have sent it a code" in browser.page
    await browser.post("verify", phone="+447400900702")
    assert "We have sent too many codes" in browser.page
    await run_loops()
    code = CODE.search(fake_twilio.inbox["+447400900702"][-1])
    assert code is not None
    wrong = f"{(int(code.group(1)) + 1) % 10**6:06d}"
    for _ in range(5):
        await browser.post("verify/code", code=wrong)
    await browser.post("verify/code", code=code.group(1))
    assert "That code is not right" in browser.page
    assert await participants(web_client) == []


async def test_forms_need_the_csrf_token_and_a_session(web_client: AppClient) -> None:
    browser = Browser(web_client)
    await browser.open()
    response = await web_client.post(
        f"/s/{STUDY}/messages", data={"csrf": "forged", "text": "MORE"}
    )
    assert response.status == 403
    await browser.open()
    assert browser.messages() == []
    web_client.session.cookie_jar.clear()
    response = await web_client.post(
        f"/s/{STUDY}/messages", data={"csrf": browser.csrf, "text": "MORE"}, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == f"/s/{STUDY}?notice=new-session"


async def test_security_headers_and_cookie_flags(client: AppClient, web_client: AppClient) -> None:
    browser = Browser(client)  # the default test app: public URL https://consent.example.org
    await browser.open()
    csp = browser.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert browser.headers["Referrer-Policy"] == "no-referrer"
    csrf_cookie = browser.headers["Set-Cookie"]
    assert csrf_cookie.startswith("consentbot_csrf=")
    assert "HttpOnly" in csrf_cookie
    assert "SameSite=Strict" in csrf_cookie
    assert "Secure" in csrf_cookie  # served under an https public URL
    assert "<script>" not in browser.page.replace(
        '<script src="/static/app.js" defer></script>', ""
    )
    # The session cookie comes with the first form (here over plain http, as the test
    # client cannot send a Secure cookie back).
    plain = Browser(web_client)
    await plain.open()
    response = await web_client.post(
        f"/s/{STUDY}/messages",
        data={"csrf": plain.csrf, "form": plain.form_id, "text": "MORE"},
        allow_redirects=False,
    )
    session_cookie = response.headers["Set-Cookie"]
    assert session_cookie.startswith("consentbot_session=")
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie


async def test_patient_text_is_escaped(web_client: AppClient) -> None:
    browser = Browser(web_client)
    await browser.open()
    await browser.say('<script>alert("x")</script><b>hi</b>')
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;hi&lt;/b&gt;" in browser.page
    assert "<b>hi</b>" not in browser.page


async def test_personal_link_opens_the_participants_conversation(
    web_client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(web_client)
    invited = await research.invite("+447400900703", "W-1", "cy")
    assert "link" not in invited  # the link is the person's: it goes only to their phone
    assert invited["link_sent"] is True
    await run_loops()
    link = link_in(fake_twilio.inbox["+447400900703"][-1])
    assert link.startswith(f"{web_client.app[keys.SETTINGS].public_url}/i/")
    path = "/i/" + link.rsplit("/", 1)[1]
    response = await web_client.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/s/{STUDY}"
    browser = Browser(web_client)
    page = await browser.open()
    assert '<html lang="cy" dir="ltr">' in page
    reply = await browser.say("IE")
    assert "need to check" not in reply  # a personal link is already linked
    assert (await research.consent("W-1"))["records-research"] == "none"
    await browser.say("IE")
    assert (await research.consent("W-1"))["records-research"] == "pending"
    history = await research.history("W-1")
    assert {event["auth"] for event in history} == {"link"}
    # The same browser may come back through the link; it opens its own session again.
    again = await web_client.get(path, allow_redirects=False)
    assert again.headers["Location"] == f"/s/{STUDY}"
    clock.advance(timedelta(days=31))
    web_client.session.cookie_jar.clear()
    expired = await web_client.get(path)
    assert expired.status == 404
    assert "This link has expired" in await expired.text()


async def test_sms_and_web_agree(
    web_client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    """Start on the web, confirm by SMS after cooling-off: one state, one ledger, both channels."""
    number = "+447400900704"
    browser = Browser(web_client)
    await browser.open()
    await browser.say("YES")
    await verify(browser, fake_twilio, run_loops, number)
    for answer in ["YES", "NO", "NO", "YES", "NO"]:
        await browser.say(answer)
    (participant,) = await participants(web_client)
    research = await ResearchSystem.register(web_client)
    assert (await research.consent(participant.reference))["recontact"] == "pending"

    clock.advance(timedelta(days=1, minutes=1))
    await run_loops()
    phone = TwilioPhone(web_client, fake_twilio, number)
    assert "reply CONFIRM by" in phone.new_messages()[-1]  # the reminder goes by SMS
    await phone.send("CONFIRM")
    await run_loops()
    assert "These choices now count" in phone.text()
    consent = await research.consent(participant.reference)
    assert consent["records-research"] == "active"
    assert consent["recontact"] == "active"
    assert consent["updates"] == "declined"

    web_choices = await browser.say("CHOICES")
    await phone.send("CHOICES")
    await run_loops()
    sms_choices = phone.text()
    assert web_choices == sms_choices
    assert "Research on your records: yes" in web_choices
    channels = [event["channel"] for event in await research.history(participant.reference)]
    assert set(channels) == {"web", "sms:twilio"}


async def test_language_switch_is_remembered_for_sms(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    number = "+447400900705"
    browser = Browser(web_client)
    await browser.open()
    await browser.post("language", language="pl")
    assert '<html lang="pl"' in browser.page
    await browser.say("TAK")
    await verify(browser, fake_twilio, run_loops, number)
    (participant,) = await participants(web_client)
    assert participant.language == "pl"
    phone = TwilioPhone(web_client, fake_twilio, number)
    await phone.send("POMOC")
    await run_loops()
    assert "WYCOFUJĘ" in phone.text()


async def test_codes_and_links_stay_out_of_logs(
    web_client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(web_client)
    with capture_logs() as logs:
        await research.invite("+447400900706", "W-6")
        browser = Browser(web_client)
        await browser.open()
        await browser.say("YES")
        await verify(browser, fake_twilio, run_loops, "+447400900707")
        link = link_in(fake_twilio.inbox["+447400900706"][-1])
        await web_client.get("/i/" + link.rsplit("/", 1)[1])
    code = CODE.search(fake_twilio.inbox["+447400900707"][-1])
    assert code is not None
    dumped = repr(logs)
    for secret in (code.group(1), link.rsplit("/", 1)[1], "7400900707", "7400900706"):
        assert secret not in dumped


async def test_welsh_reader_answers_on_the_web_and_withdraws_by_sms(
    web_client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    w = words("cy")
    number = "+447400900708"
    browser = Browser(web_client, language="cy")
    page = await browser.open()
    assert '<html lang="cy" dir="ltr">' in page
    await browser.say(w.word(Command.MORE))
    await browser.say(w.word(Command.YES))
    await verify(browser, fake_twilio, run_loops, number)
    for answer in (Command.YES, Command.YES, Command.NO, Command.NO, Command.YES):
        await browser.say(w.word(answer))
    clock.advance(timedelta(days=1, minutes=1))
    await browser.say(w.word(Command.CONFIRM))
    (participant,) = await participants(web_client)
    research = await ResearchSystem.register(web_client)
    assert (await research.consent(participant.reference))["social-care-linkage"] == "active"

    phone = TwilioPhone(web_client, fake_twilio, number)
    await phone.send(w.word(Command.WITHDRAW).lower())
    await run_loops()
    study = web_client.app[keys.STUDIES].get(STUDY)
    assert study is not None
    assert study.contact.email in phone.text()
    consent = await research.consent(participant.reference)
    assert consent["records-research"] == "withdrawn"
    assert consent["social-care-linkage"] == "withdrawn"
    choices = await browser.say(w.word(Command.CHOICES))
    assert translator("cy").gettext("no (you withdrew)") in choices


async def test_a_stale_translation_shows_the_default_text_with_a_note(
    make_web_client: WebClientFactory, tmp_path: Path
) -> None:
    """Polish was translated from version 1 and the study is now at 2: the page shows the
    English text, marked as English, under a Polish note; the page itself stays Polish."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    folder = content / "studies" / STUDY
    for name, version in (("study", 2), ("en", 2), ("cy", 2), ("ur", 2)):
        path = folder / f"{name}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["version" if name == "study" else "translated_from_version"] = version
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    client = await make_web_client(content_dir=content)
    page = await Browser(client, language="pl").open()
    study = client.app[keys.STUDIES].get(STUDY)
    assert study is not None
    assert '<html lang="pl" dir="ltr">' in page
    assert (
        "Ta część nie jest jeszcze przetłumaczona. Poniżej wersja oryginalna (angielski)." in page
    )
    assert f'<h1 lang="en">{study.texts["en"].title}</h1>' in page
    assert study.texts["pl"].title not in page
    assert "POTWIERDZAM" in page  # {confirm} in the English text names the Polish keyword
