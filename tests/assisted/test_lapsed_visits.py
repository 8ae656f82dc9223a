"""A visit the worker leaves without "End of the visit" ends on its own after 30 minutes
idle (or 12 hours in all), and the person is still sent what was recorded."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from consentbot.conversation.vocabulary import Command
from consentbot.services.clock import ManualClock
from consentbot.store.tables import AssistedSession
from consentbot.web.staff_assisted import ASSISTED
from tests.assisted.test_assisted import URDU, register, say, worker
from tests.assisted.test_confirmed_via import answered
from tests.assisted.test_receipt import URDU_HEAD, finish, receipts
from tests.staff.conftest import StaffBrowser, StaffFactory
from tests.support.tamper import database


async def close_lapsed(browser: StaffBrowser) -> int:
    return await browser.app[ASSISTED].receipts.close_lapsed()


async def closed(browser: StaffBrowser) -> list[bool]:
    async with database(browser.client).read() as session:
        rows = (await session.exec(select(AssistedSession).order_by(AssistedSession.id))).all()  # type: ignore[arg-type]
    return [row.closed_at is not None for row in rows]


async def test_a_visit_left_idle_sends_its_receipt_and_no_longer_opens(
    make_staff: StaffFactory, clock: ManualClock
) -> None:
    browser, participant_id, _reference = await answered(make_staff)
    # Still in use: nothing lapses, nothing is sent.
    clock.advance(timedelta(minutes=29))
    assert await close_lapsed(browser) == 0
    await browser.open(f"/staff/assisted/{participant_id}")
    assert browser.status == 200  # using it keeps it open
    clock.advance(timedelta(minutes=29))
    assert await close_lapsed(browser) == 0
    assert await receipts(browser) == []
    # The worker walks away without "End of the visit".
    clock.advance(timedelta(minutes=2))
    assert await close_lapsed(browser) == 1
    queued = await receipts(browser)
    assert queued
    assert URDU_HEAD in "".join(message.body for message in queued)
    assert await closed(browser) == [True]
    # Once ended, it is ended: no second receipt, and the worker finds the person again.
    assert await close_lapsed(browser) == 0
    assert len(await receipts(browser)) == len(queued)
    await browser.log_in("worker@example.org")
    await browser.open(f"/staff/assisted/{participant_id}")
    assert browser.status == 403


async def test_after_end_of_the_visit_a_lapse_sends_only_what_changed_since(
    make_staff: StaffFactory, clock: ManualClock
) -> None:
    browser, participant_id, _reference = await answered(make_staff)
    assert await finish(browser, participant_id) == 200
    sent = len(await receipts(browser))
    clock.advance(timedelta(minutes=31))
    assert await close_lapsed(browser) == 1
    assert len(await receipts(browser)) == sent  # nothing changed after the receipt


async def test_a_visit_recorded_as_without_a_phone_sends_nothing_when_it_lapses(
    make_staff: StaffFactory, clock: ManualClock
) -> None:
    browser, participant_id, _reference = await answered(make_staff)
    assert await finish(browser, participant_id, no_phone="yes") == 200
    assert await say(browser, participant_id, URDU.word(Command.CHANGE)) == 200
    assert await say(browser, participant_id, URDU.word(Command.NO)) == 200
    clock.advance(timedelta(hours=13))
    assert await close_lapsed(browser) == 1
    assert await receipts(browser) == []


async def test_a_visit_without_changes_lapses_quietly(make_staff: StaffFactory, clock: ManualClock) -> None:
    browser = await worker(make_staff)
    await register(browser)
    clock.advance(timedelta(hours=1))
    assert await close_lapsed(browser) == 1
    assert await receipts(browser) == []
