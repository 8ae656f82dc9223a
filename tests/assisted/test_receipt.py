"""After an assisted session the person gets what was recorded and how to change it: a text
in their language (once per change, never to a number that sent STOP), or a printout."""

from __future__ import annotations

from sqlmodel import col, select

from consentbot.conversation.vocabulary import Command
from consentbot.domain.outbox import OutboxKind
from consentbot.services.clock import ManualClock
from consentbot.store.tables import OutboxMessage
from tests.assisted.test_assisted import NUMBER, URDU, say, worker
from tests.assisted.test_confirmed_via import answered
from tests.conftest import settle
from tests.staff.conftest import StaffBrowser, StaffFactory
from tests.support.tamper import database
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

URDU_HEAD = "ایک کمیونٹی ورکر نے آپ کے ساتھ"


async def receipts(browser: StaffBrowser) -> list[OutboxMessage]:
    async with database(browser.client).read() as session:
        statement = select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.ASSISTED_RECEIPT).order_by(col(OutboxMessage.id))
        return list((await session.exec(statement)).all())


async def finish(browser: StaffBrowser, participant_id: int, **form: str) -> int:
    return await browser.post(f"/staff/assisted/{participant_id}/finish", **form)


async def test_the_receipt_is_texted_once_in_the_persons_urdu(
    make_staff: StaffFactory, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    browser, participant_id, _reference = await answered(make_staff)
    assert await finish(browser, participant_id) == 200
    assert browser.notice is not None
    assert "will get a text" in browser.notice
    queued = await receipts(browser)
    assert queued
    body = "".join(message.body for message in queued)
    assert URDU_HEAD in body
    assert URDU.word(Command.CHANGE) in body
    assert URDU.word(Command.WITHDRAW) in body
    # Pressed again with nothing new: nothing more is queued.
    assert await finish(browser, participant_id) == 200
    assert browser.notice is not None
    assert "Nothing has changed" in browser.notice
    assert len(await receipts(browser)) == len(queued)
    # The dispatcher sends it (10:00 is outside quiet hours).
    await settle(browser.app)
    texts = fake_twilio.inbox.get(NUMBER, [])
    assert any(URDU_HEAD in text for text in texts), texts
    # Something changes in the session: a new receipt is due.
    await browser.open(f"/staff/assisted/{participant_id}")
    assert await say(browser, participant_id, URDU.word(Command.CHANGE)) == 200
    assert await say(browser, participant_id, URDU.word(Command.NO)) == 200
    assert await finish(browser, participant_id) == 200
    assert len(await receipts(browser)) > len(queued)


async def test_no_text_to_a_number_that_sent_stop_and_the_worker_prints_instead(
    make_staff: StaffFactory, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    browser, participant_id, _reference = await answered(make_staff)
    await TwilioPhone(browser.client, fake_twilio, NUMBER).send("STOP")
    await settle(browser.app)
    await browser.open(f"/staff/assisted/{participant_id}")
    assert await finish(browser, participant_id) == 200
    assert browser.notice is not None
    assert "asked for no messages" in browser.notice
    assert await receipts(browser) == []
    link = f'href="/staff/assisted/{participant_id}/print?large=1"'
    assert link in browser.page
    await browser.open(f"/staff/assisted/{participant_id}/print?large=1")
    assert browser.status == 200
    assert 'lang="ur"' in browser.page


async def test_a_person_without_a_usable_phone_gets_a_printout(make_staff: StaffFactory) -> None:
    browser, participant_id, _reference = await answered(make_staff)
    assert await finish(browser, participant_id, no_phone="yes") == 200
    assert browser.notice is not None
    assert "Print what was recorded" in browser.notice
    assert await receipts(browser) == []
    assert f'href="/staff/assisted/{participant_id}/print?large=1"' in browser.page
    # Another organisation's worker can print nothing of this person.
    other = await worker(make_staff, "other@example.org", "Other Centre")
    await other.open(f"/staff/assisted/{participant_id}/print")
    assert other.status == 403
