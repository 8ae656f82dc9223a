"""Timers live in the database: reminders, quiet hours, expiry, LATER, restarts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from consentbot import keys
from consentbot.app import create_app
from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.tables import OutboxMessage, Timer
from tests.conftest import AppClient, WebClientFactory, settle
from tests.support.content import awake_copy
from tests.support.journey import ResearchSystem
from tests.support.query_plans import statements_sent
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

Loops = Callable[[], Awaitable[None]]
ANSWERS = ["YES", "YES", "NO", "NO", "NO", "YES"]


async def answer_all(phone: TwilioPhone, research: ResearchSystem, reference: str) -> None:
    await research.invite(phone.number, reference)
    for answer in ANSWERS:
        await phone.send(answer)


async def timers(client: AppClient) -> list[Timer]:
    async with client.app[keys.DATABASE].transaction() as session:
        return list((await session.exec(select(Timer).order_by(Timer.id))).all())  # type: ignore[arg-type]


async def test_reminder_at_end_of_cooling_off_sent_once(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900201")
    await answer_all(phone, research, "T-1")
    await run_loops()
    phone.new_messages()
    clock.advance(timedelta(hours=23, minutes=59))
    await run_loops()
    assert phone.new_messages() == []
    clock.advance(timedelta(minutes=1))
    await run_loops()
    (reminder,) = phone.new_messages()
    assert "reply CONFIRM by" in reminder
    clock.advance(timedelta(hours=1))
    await run_loops()
    await run_loops()
    assert phone.new_messages() == []


async def test_reminder_in_quiet_hours_waits_until_morning(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    clock.now = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 22:30 in London
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900202")
    await answer_all(phone, research, "T-2")
    await run_loops()
    # The invitation itself is proactive: held until 08:00; the replies are answers and go at once.
    assert not any("Northern Pennines" in m and "Reply MORE" in m for m in phone.new_messages())
    clock.now = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    await run_loops()
    (held,) = phone.new_messages()
    assert "Reply MORE" in held  # the invitation, released when quiet hours end
    clock.now = datetime(2026, 12, 2, 22, 30, tzinfo=UTC)  # cooling-off ends inside quiet hours
    await run_loops()
    assert phone.new_messages() == []
    clock.now = datetime(2026, 12, 3, 7, 59, tzinfo=UTC)
    await run_loops()
    assert phone.new_messages() == []
    clock.now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    await run_loops()
    reminders = [m for m in phone.new_messages() if "reply CONFIRM by" in m]
    assert len(reminders) == 1


async def test_unconfirmed_answers_expire_and_are_told(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900203")
    await answer_all(phone, research, "T-3")
    clock.advance(timedelta(days=15, minutes=1))
    await run_loops()
    consent = await research.consent("T-3")
    assert consent["records-research"] == "expired"
    assert consent["updates"] == "expired"
    assert consent["social-care-linkage"] == "declined"
    assert any("not confirmed in time" in m for m in phone.new_messages())
    await phone.send("CONFIRM")
    assert (await research.consent("T-3"))["records-research"] == "expired"
    history = await research.history("T-3")
    assert history[-1]["actor"] == "system"
    assert history[-1]["action"] == "expire"


async def test_later_reminds_after_the_studys_delay(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900204")
    await research.invite(phone.number, "T-4")
    await phone.send("LATER")
    await run_loops()
    assert "remind you on" in phone.new_messages()[-1]
    clock.advance(timedelta(days=2))
    await run_loops()
    reminder = phone.text()
    assert "You asked us to remind you" in reminder
    assert "you do not need to do anything" in reminder  # doing nothing is fine


async def test_stop_cancels_reminders_but_not_expiry(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900205")
    await answer_all(phone, research, "T-5")
    await phone.send("STOP")
    pending = {(t.kind, t.status) for t in await timers(client)}
    assert ("confirm-reminder", "cancelled") in pending
    assert ("expiry", "pending") in pending
    clock.advance(timedelta(days=16))
    await run_loops()
    assert (await research.consent("T-5"))["records-research"] == "expired"
    async with client.app[keys.DATABASE].transaction() as session:
        statuses = {m.kind: m.status for m in (await session.exec(select(OutboxMessage))).all()}
    assert statuses[OutboxKind.EXPIRY] is OutboxStatus.SUPPRESSED


async def test_timers_survive_a_restart(
    settings: Settings,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    twilio_server: TestServer,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> None:
    api_base = str(twilio_server.make_url("")).rstrip("/")
    configured = settings.with_(twilio_api_base=api_base)
    first = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    research = await ResearchSystem.register(first)
    phone = TwilioPhone(first, fake_twilio, "+447400900206")
    await answer_all(phone, research, "T-6")
    await settle(first.app)
    phone.new_messages()
    await first.close()

    clock.advance(timedelta(days=1, minutes=5))
    second: TestClient[web.Request, web.Application] = await aiohttp_client(
        create_app(configured, clock=clock, run_background=False)
    )
    await settle(second.app)
    (reminder,) = phone.new_messages()
    assert "CONFIRM" in reminder


async def test_held_message_not_sent_at_night_after_downtime(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    """Queued at 10:00 but the service was down until 22:30: it waits for the morning."""
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900207")
    await research.invite(phone.number, "T-7")
    clock.now = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)
    await run_loops()
    assert phone.new_messages() == []
    clock.now = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    await run_loops()
    (invitation,) = phone.new_messages()
    assert "Reply MORE" in invitation
    await phone.send("HELP")  # a reply to the person is never held
    clock.now = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    await phone.send("HELP")
    await run_loops()
    assert len(phone.new_messages()) == 2


STUDY_OF_EACH = "SELECT participant.id, participant.study_id \nFROM participant"
"""The dispatcher's read of whose study each message we start is, for quiet hours."""


async def test_where_no_study_keeps_quiet_hours_a_round_reads_no_study_and_holds_nothing(
    make_web_client: WebClientFactory, fake_twilio: FakeTwilio, clock: ManualClock, tmp_path: Path
) -> None:
    client = await make_web_client(content_dir=awake_copy(tmp_path / "content"))
    db = client.app[keys.DATABASE]
    clock.now = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # inside the sample's 21:00-08:00
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900231")
    with statements_sent(db, STUDY_OF_EACH) as seen:
        await research.invite(phone.number, "T-31")
        await settle(client.app)
    (invitation,) = phone.new_messages()
    assert "Reply MORE" in invitation  # proactive, and not held: no quiet hours anywhere
    assert seen == []


async def test_where_a_study_keeps_quiet_hours_a_round_reads_whose_study_each_message_is(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    db = client.app[keys.DATABASE]
    clock.now = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900232")
    with statements_sent(db, STUDY_OF_EACH) as seen:
        await research.invite(phone.number, "T-32")
        await run_loops()
    assert phone.new_messages() == []  # held until 08:00
    assert len(seen) == 1
