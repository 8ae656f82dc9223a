"""A worker records, on a later visit, that a person without a phone of their own confirmed
in person or by a phone call: the same CONFIRM turn under the same cooling-off rule, with
``confirmed_via`` in the ledger and the worker's note kept with the session."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from consentbot.conversation.vocabulary import Command
from consentbot.services.clock import ManualClock
from consentbot.store.tables import AssistedSession, ConsentEvent
from tests.assisted.test_assisted import (
    FORM,
    LOCAL,
    REFERENCE,
    SCRIPT,
    URDU,
    WORKER,
    register,
    say,
    worker,
)
from tests.staff.conftest import StaffBrowser, StaffFactory
from tests.support.journey import STUDY, ResearchSystem
from tests.support.tamper import database, execute, rewrite, verify_in_process

CONFIRMATION_FORM = 'action="/staff/assisted/{}/confirmation"'
PENDING = {"records-research", "commercial-partner", "updates"}


def local(moment: datetime) -> str:
    """A datetime-local field's value (Europe/London is UTC in December)."""
    return moment.strftime("%Y-%m-%dT%H:%M")


async def answered(make_staff: StaffFactory) -> tuple[StaffBrowser, int, str]:
    """A worker has taken the person through every question today (three yeses)."""
    browser = await worker(make_staff)
    participant_id = await register(browser)
    reference = REFERENCE.search(browser.page)
    assert reference
    for text in SCRIPT:
        assert await say(browser, participant_id, text) == 200, browser.page
    return browser, participant_id, reference.group(1)


async def next_visit(browser: StaffBrowser, clock: ManualClock, after: timedelta) -> None:
    """Time passes; the worker finds the person again (a new visit, a new session)."""
    clock.advance(after)
    await browser.open("/staff/assisted")
    if browser.url != "/staff/assisted":
        await browser.log_in(WORKER)  # idle too long: the worker logs in again
        await browser.open("/staff/assisted")
    assert await browser.post("/staff/assisted/find", study=STUDY, phone=LOCAL) == 200, browser.page


async def record(browser: StaffBrowser, participant_id: int, *, offered: bool = True, **form: str) -> int:
    """Submit the confirmation form (posted even where the page does not offer it)."""
    page = browser.page
    assert (CONFIRMATION_FORM.format(participant_id) in page) is offered
    match = FORM.search(page)
    assert match
    return await browser.post(f"/staff/assisted/{participant_id}/confirmation", form=match.group(1), **form)


async def test_an_in_person_confirmation_next_day_makes_the_yeses_count(
    make_staff: StaffFactory, clock: ManualClock
) -> None:
    browser, participant_id, reference = await answered(make_staff)
    answered_at = clock()
    # The same visit: cooling-off has not ended, so the form is not even offered.
    assert CONFIRMATION_FORM.format(participant_id) not in browser.page
    await next_visit(browser, clock, timedelta(days=1, hours=1))
    when = answered_at + timedelta(days=1, minutes=30)
    assert await record(browser, participant_id, via="in-person", at=local(when), note="Confirmed at the drop-in, read back to her in Urdu.") == 200, browser.page
    assert browser.url == f"/staff/assisted/{participant_id}"

    research = await ResearchSystem.register(browser.client)
    assert await research.consent(reference) == {
        "records-research": "active",
        "social-care-linkage": "declined",
        "commercial-partner": "active",
        "recontact": "declined",
        "updates": "active",
    }
    history = await research.history(reference)
    confirmed = [e for e in history if e["action"] == "confirm"]
    assert {e["purpose"] for e in confirmed} == PENDING
    assert {(e["channel"], e["auth"], e["confirmed_via"], e["at"]) for e in confirmed} == {
        ("assisted", "assisted", "in-person", when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    }
    assert {e["confirmed_via"] for e in history if e["action"] != "confirm"} == {None}
    # The note stays with the session, outside the ledger.
    async with database(browser.client).read() as session:
        rows = (await session.exec(select(AssistedSession).where(AssistedSession.participant_id == participant_id))).all()
    assert [(r.confirmed_via, r.confirmation_note) for r in rows if r.confirmed_via] == [
        ("in-person", "Confirmed at the drop-in, read back to her in Urdu.")
    ]
    assert await verify_in_process(browser.client) == []

    # The field is hashed: blanking it breaks the chain...
    await execute(browser.client, "UPDATE consent_event SET confirmed_via = NULL WHERE action = 'confirm'")
    assert any("altered" in finding for finding in await verify_in_process(browser.client))

    # ...and a well-chained confirmed_via where no worker recorded a confirm is reported.
    def on_a_yes(events: list[ConsentEvent]) -> None:
        events[0].confirmed_via = "in-person"
        for event in events:
            if event.action == "confirm":
                event.confirmed_via = "in-person"

    await rewrite(browser.client, participant_id, on_a_yes)
    findings = await verify_in_process(browser.client)
    assert len(findings) == 1, findings
    assert "only a confirm recorded in an assisted session carries it" in findings[0]


async def test_a_confirmation_before_cooling_off_ended_is_refused_and_changes_nothing(
    make_staff: StaffFactory, clock: ManualClock
) -> None:
    browser, participant_id, reference = await answered(make_staff)
    answered_at = clock()
    # Even posted on the same visit (the form is not offered), the rule refuses it.
    assert await record(browser, participant_id, offered=False, via="in-person", at=local(answered_at), note="Same visit.") == 409
    assert browser.notice is not None
    assert "still within their time to think" in browser.notice
    # Next day, a phone call said to have happened before the time to think ended.
    await next_visit(browser, clock, timedelta(days=1, hours=1))
    too_early = answered_at + timedelta(hours=23)
    assert await record(browser, participant_id, via="phone-call", at=local(too_early), note="Called her.") == 409
    assert browser.notice is not None
    assert "still within their time to think" in browser.notice
    research = await ResearchSystem.register(browser.client)
    assert set((await research.consent(reference)).values()) == {"pending", "declined"}
    assert [e for e in await research.history(reference) if e["action"] == "confirm"] == []


async def test_a_note_and_a_time_within_the_window_are_required(
    make_staff: StaffFactory, clock: ManualClock
) -> None:
    browser, participant_id, reference = await answered(make_staff)
    answered_at = clock()
    await next_visit(browser, clock, timedelta(days=1, hours=1))
    ok = local(answered_at + timedelta(days=1, minutes=30))
    assert await record(browser, participant_id, via="phone-call", at=ok, note="   ") == 400
    assert browser.notice is not None
    assert "write a note" in browser.notice
    assert await record(browser, participant_id, via="phone-call", at=local(clock() + timedelta(hours=1)), note="Called.") == 400
    assert browser.notice is not None
    assert "cannot be in the future" in browser.notice
    assert await record(browser, participant_id, via="by-pigeon", at=ok, note="Called.") == 400
    # Fifteen days on the form is gone; a call said to be from after the yeses lapsed is
    # refused by the rule itself (the expiry timer has not run in this test).
    await next_visit(browser, clock, timedelta(days=14))
    late = local(answered_at + timedelta(days=15, hours=1))
    assert await record(browser, participant_id, offered=False, via="phone-call", at=late, note="Called.") == 409
    assert browser.notice is not None
    assert "already lapsed" in browser.notice
    research = await ResearchSystem.register(browser.client)
    assert [e for e in await research.history(reference) if e["action"] == "confirm"] == []


async def test_a_confirmation_dated_before_a_later_change_is_refused_so_the_ledger_keeps_time_order(
    make_staff: StaffFactory, clock: ManualClock
) -> None:
    browser, participant_id, reference = await answered(make_staff)
    answered_at = clock()
    await next_visit(browser, clock, timedelta(days=1, hours=2))
    # On this visit the person narrows a yes (at once, no cooling-off)...
    assert await say(browser, participant_id, URDU.word(Command.CHANGE)) == 200
    assert await say(browser, participant_id, URDU.word(Command.NO)) == 200
    research = await ResearchSystem.register(browser.client)
    before = await research.history(reference)
    # ...then the worker records a phone call from before it, though after cooling-off.
    earlier = answered_at + timedelta(days=1, hours=1)
    assert await record(browser, participant_id, offered=False, via="phone-call", at=local(earlier), note="She rang yesterday.") == 409
    assert browser.notice is not None
    assert "changed their answers after that time" in browser.notice
    assert await research.history(reference) == before
