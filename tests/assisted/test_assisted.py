"""Assisted sessions at /staff/assisted: a community worker registers or finds a person and
takes them through the study on the worker's tablet; the person confirms later, on their own."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from consentbot import keys
from consentbot.conversation.vocabulary import Command
from consentbot.domain.staff import AccessReason, StaffRole
from consentbot.services.clock import ManualClock
from tests.conftest import settle
from tests.staff.conftest import StaffBrowser, StaffFactory
from tests.support.journey import STUDY, ResearchSystem, words
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

NUMBER = "+447400900701"
LOCAL = "07400 900701"
WORKER = "worker@example.org"
ORGANISATION = "Drop-in Centre"
FORM = re.compile(r'name="form" value="([^"]+)"')
QUESTION = re.compile(r'name="question" value="([^"]*)"')
REFERENCE = re.compile(r'<span dir="ltr">(K-[A-Z0-9]+)</span>')
URDU = words("ur")
SCRIPT = [URDU.word(Command.MORE), "2"] + [URDU.word(Command.YES)] * 2 + [URDU.word(Command.NO), URDU.word(Command.YES), URDU.word(Command.NO), URDU.word(Command.YES)]
"""Read, open a topic, start the questions and answer all five, in the person's Urdu words."""


async def worker(make_staff: StaffFactory, email: str = WORKER, org: str = ORGANISATION) -> StaffBrowser:
    browser = await make_staff()
    await browser.account(email, StaffRole.COMMUNITY_WORKER, org=org)
    return browser


async def register(browser: StaffBrowser, phone: str = LOCAL, **form: str) -> int:
    """Register the person in the study (they agreed); the session page's participant id."""
    await browser.open("/staff/assisted")
    fields = {"study": STUDY, "phone": phone, "language": "ur", "agreed": "yes"} | form
    await browser.post("/staff/assisted/register", **fields)
    assert browser.status == 200, browser.page
    match = re.fullmatch(r"/staff/assisted/(\d+)", browser.url)
    assert match, browser.url
    return int(match.group(1))


async def say(browser: StaffBrowser, participant_id: int, text: str) -> int:
    """What the person says, from the session page now shown."""
    form = FORM.search(browser.page)
    question = QUESTION.search(browser.page)
    assert form
    assert question
    return await browser.post(
        f"/staff/assisted/{participant_id}/messages", form=form.group(1), question=html.unescape(question.group(1)), text=text
    )


async def test_a_worker_takes_a_person_through_in_urdu_and_the_person_confirms_next_day_by_sms(
    make_staff: StaffFactory, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    browser = await worker(make_staff)
    participant_id = await register(browser, interpreter="yes")
    # The study text in the person's language, the controls in the worker's.
    assert '<h1 lang="ur" dir="rtl">' in browser.page
    assert '<html lang="en" dir="ltr">' in browser.page
    assert "The person&#39;s conversation" in browser.page
    assert 'class="assisted large"' in browser.page
    assert "An interpreter is present." in browser.page
    assert URDU.word(Command.CONFIRM) not in re.findall(r'name="text" value="([^"]+)"', browser.page)
    reference = REFERENCE.search(browser.page)
    assert reference
    for text in SCRIPT:
        assert await say(browser, participant_id, text) == 200, browser.page
    # Cooling-off: no confirmation on the same visit, in Urdu or in English.
    for word in (URDU.word(Command.CONFIRM), "CONFIRM"):
        assert await say(browser, participant_id, word) == 409
        assert browser.notice is not None
        assert "cannot confirm today" in browser.notice

    research = await ResearchSystem.register(browser.client)
    history = await research.history(reference.group(1))
    assert [(e["purpose"], e["to"]) for e in history] == [
        ("records-research", "pending"),
        ("social-care-linkage", "declined"),
        ("commercial-partner", "pending"),
        ("recontact", "declined"),
        ("updates", "pending"),
    ]
    assert {(e["channel"], e["auth"], e["actor"], e["assisted_by"]) for e in history} == {
        ("assisted", "assisted", WORKER, f"{WORKER} ({ORGANISATION}) with interpreter")
    }
    # Nothing was texted during the session: the replies went to the page.
    assert not fake_twilio.inbox.get(NUMBER)
    log = await browser.app[keys.STAFF_ACCESS].newest(staff_email=WORKER)
    assert {entry.reason for entry in log} == {AccessReason.ASSISTED_SESSION}
    assert {entry.participant_id for entry in log} == {participant_id}
    assert len(log) >= 1 + len(SCRIPT)  # opening, and every showing of the page

    # The next day the person confirms from their own phone.
    clock.advance(timedelta(days=1, minutes=1))
    await settle(browser.app)
    await TwilioPhone(browser.client, fake_twilio, NUMBER).send(URDU.word(Command.CONFIRM))
    await settle(browser.app)
    assert await research.consent(reference.group(1)) == {
        "records-research": "active",
        "social-care-linkage": "declined",
        "commercial-partner": "active",
        "recontact": "declined",
        "updates": "active",
    }
    confirmed = [e for e in await research.history(reference.group(1)) if e["to"] == "active"]
    assert {(e["channel"], e["auth"], e["assisted_by"]) for e in confirmed} == {("sms:twilio", "sms", None)}


async def test_registering_needs_the_persons_agreement(make_staff: StaffFactory) -> None:
    browser = await worker(make_staff)
    await browser.open("/staff/assisted")
    assert await browser.post("/staff/assisted/register", study=STUDY, phone=LOCAL, language="ur") == 400
    assert browser.error is not None
    assert "agree" in browser.error


async def test_a_worker_finds_a_person_by_number_and_nothing_about_unknown_numbers(
    make_staff: StaffFactory,
) -> None:
    browser = await worker(make_staff)
    participant_id = await register(browser)
    await browser.open("/staff/assisted")
    await browser.post("/staff/assisted/find", study=STUDY, phone="+44 7400 900701")
    assert browser.url == f"/staff/assisted/{participant_id}"
    await browser.open("/staff/assisted")
    assert await browser.post("/staff/assisted/find", study=STUDY, phone="07400 900799") == 404
    assert browser.error == "Not found."
    assert "900799" not in browser.page
    await browser.open("/staff/assisted")
    assert await browser.post("/staff/assisted/find", study=STUDY, phone="not a number") == 400


async def test_the_interpreter_is_recorded_on_the_events_from_then_on(
    make_staff: StaffFactory,
) -> None:
    browser = await worker(make_staff)
    participant_id = await register(browser)
    assert "No interpreter is recorded." in browser.page
    await browser.post(f"/staff/assisted/{participant_id}/interpreter", interpreter="yes")
    assert "An interpreter is present." in browser.page
    for text in SCRIPT[2:4]:
        await say(browser, participant_id, text)
    reference = REFERENCE.search(browser.page)
    assert reference
    research = await ResearchSystem.register(browser.client)
    history = await research.history(reference.group(1))
    assert {e["assisted_by"] for e in history} == {f"{WORKER} ({ORGANISATION}) with interpreter"}


async def test_another_organisations_worker_cannot_open_the_session(make_staff: StaffFactory) -> None:
    mine = await worker(make_staff)
    participant_id = await register(mine)
    other = await worker(make_staff, "other@example.org", "Another Group")
    await other.open(f"/staff/assisted/{participant_id}")
    assert other.status == 403
    await other.open("/staff/assisted")
    assert await other.post(f"/staff/assisted/{participant_id}/messages", form="f-1", text="YES") == 403
    colleague = await worker(make_staff, "colleague@example.org")
    await colleague.open(f"/staff/assisted/{participant_id}")
    assert colleague.status == 200


async def test_a_study_team_cannot_use_assisted_sessions_and_no_session_means_login(
    make_staff: StaffFactory,
) -> None:
    team = await make_staff()
    await team.account("team@example.org", StaffRole.STUDY_TEAM)
    await team.open("/staff/assisted")
    assert team.status == 403
    nobody = await make_staff()
    await nobody.open("/staff/assisted")
    assert nobody.url == "/staff/login"
    await nobody.open("/staff/assisted/1")
    assert nobody.url == "/staff/login"


async def test_a_repeated_form_is_said_once(make_staff: StaffFactory) -> None:
    browser = await worker(make_staff)
    participant_id = await register(browser)
    form = FORM.search(browser.page)
    assert form
    for _ in range(2):
        await browser.post(f"/staff/assisted/{participant_id}/messages", form=form.group(1), question="", text="HELP")
    assert browser.page.count('<span class="who">The person</span>') == 1


async def test_an_admin_may_assist_and_is_named_by_role(make_staff: StaffFactory) -> None:
    admin = await make_staff()
    await admin.account("admin@example.org", StaffRole.ADMIN)
    participant_id = await register(admin)
    await say(admin, participant_id, SCRIPT[0])
    reference = REFERENCE.search(admin.page)
    assert reference
    research = await ResearchSystem.register(admin.client)
    history = await research.history(reference.group(1))
    # Reading records no consent event; the first answer does.
    assert history == []
    await say(admin, participant_id, URDU.word(Command.YES))
    await say(admin, participant_id, URDU.word(Command.YES))
    history = await research.history(reference.group(1))
    assert {(e["auth"], e["assisted_by"]) for e in history} == {("assisted", "admin@example.org (admin)")}


async def test_the_home_page_offers_assisted_sessions_to_those_who_may_run_them(make_staff: StaffFactory) -> None:
    helper = await worker(make_staff)
    await helper.open("/staff/")
    assert 'href="/staff/assisted"' in helper.page
    team = await make_staff()
    await team.account("team@example.org", StaffRole.STUDY_TEAM)
    await team.open("/staff/")
    assert team.status == 200
    assert 'href="/staff/assisted"' not in team.page
