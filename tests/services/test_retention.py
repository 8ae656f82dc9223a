"""Retention: each kind of working data goes after its own period and not before; the ledger stays."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import text
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot import keys
from consentbot.app import create_app
from consentbot.domain.outbox import OutboxStatus
from consentbot.domain.retention import RetentionPeriods
from consentbot.services.audit import LedgerAudit
from consentbot.services.clock import ManualClock
from consentbot.services.retention import PurgeReport, RetentionService, run_retention
from consentbot.settings import Settings
from consentbot.store.database import Database
from consentbot.store.tables import (
    ConsentEvent,
    ConsentState,
    InboundMessage,
    InvitationLink,
    OutboxMessage,
    PhoneVerification,
    WebFormUse,
    WebMessage,
    WebSession,
)
from tests.conftest import START, AppClient, WebClientFactory, settle
from tests.support.journey import ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone
from tests.web.conftest import Browser

# Distinct periods, so each step of the clock can show exactly one kind going.
PERIODS = RetentionPeriods(
    web_transcripts=timedelta(days=10),
    verifications=timedelta(days=15),
    web_sessions=timedelta(days=20),  # counted from expiry, 7 days after the last use
    outbox_bodies=timedelta(days=30),
    inbound_ids=timedelta(days=50),
)
SESSION_LIFETIME = timedelta(days=7)
SECOND = timedelta(seconds=1)


@pytest.fixture
async def app_client(make_web_client: WebClientFactory) -> AppClient:
    """The service with PERIODS, on a known port whose public URL is itself (for the web pages)."""
    return await make_web_client(retention=PERIODS)


async def count(session: AsyncSession, table: Any, *where: Any) -> int:
    statement = select(func.count()).select_from(table)
    for condition in where:
        statement = statement.where(condition)
    result: int = (await session.exec(statement)).one()
    return result


async def census(client: AppClient) -> dict[str, int]:
    """How much of each kind of working data is stored."""
    async with client.app[keys.DATABASE].read() as session:
        return {
            "transcripts": await count(session, WebMessage),
            "sessions": await count(session, WebSession),
            "form_ids": await count(session, WebFormUse),
            "verifications": await count(session, PhoneVerification),
            "bound_links": await count(session, InvitationLink, InvitationLink.web_session_id != None),  # noqa: E711
            "links": await count(session, InvitationLink),
            "outbox_rows": await count(session, OutboxMessage),
            "outbox_texts": await count(session, OutboxMessage, OutboxMessage.body != ""),
            "outbox_secrets": await count(session, OutboxMessage, OutboxMessage.secret_encrypted != None),  # noqa: E711
            "inbound_ids": await count(session, InboundMessage),
        }


async def ledger(client: AppClient) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    async with client.app[keys.DATABASE].read() as session:
        events = (await session.exec(select(ConsentEvent).order_by(ConsentEvent.id))).all()  # type: ignore[arg-type]
        states = (await session.exec(select(ConsentState))).all()
        return (
            [(e.id, e.seq, e.action, e.to_status, e.hash) for e in events],
            sorted((s.participant_id, s.purpose_id, s.status, s.since) for s in states),
        )


async def execute(client: AppClient, sql: str, **params: Any) -> None:
    async with client.app[keys.DATABASE].transaction() as session:
        await session.exec(text(sql).bindparams(**params))  # type: ignore[call-overload]


async def working_data(client: AppClient, fake_twilio: FakeTwilio) -> None:
    """Everything retention looks after, all written at START: an SMS journey, a web visit."""
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400123456")
    invited = await research.invite(phone.number, "R-1")
    for answer in ["YES", "YES", "NO", "NO", "YES", "YES"]:
        await phone.send(answer)
    browser = Browser(client)
    await browser.open()
    await browser.say("MORE")  # anonymous reading: two transcript lines
    await browser.post("verify", phone="07400 123457")
    await settle(client.app)
    async with client.app[keys.DATABASE].read() as session:
        (web,) = (await session.exec(select(WebSession))).all()
    # A link bound to the session it opened, and a secret still waiting to go.
    await execute(client, "UPDATE invitation_link SET web_session_id = :id", id=web.id)
    await execute(client, "UPDATE outbox SET secret_encrypted = 'sealed' WHERE kind = 'invitation'")
    assert invited["link_sent"]
    await phone.send("MORE")  # its reply stays pending: no dispatch round after this


async def test_each_kind_goes_after_its_own_period_and_not_before(
    app_client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    client = app_client
    await working_data(client, fake_twilio)
    before = await census(client)
    assert before["transcripts"] >= 2
    assert before["sessions"] == before["verifications"] == 1
    assert before["form_ids"] == 2  # the two forms the visitor sent
    assert before["bound_links"] == before["links"] == 1
    assert before["outbox_secrets"] == 1
    assert before["inbound_ids"] == 7
    ledger_before = await ledger(client)
    assert len(ledger_before[0]) == 5
    retention = client.app[keys.RETENTION]
    expected = dict(before)

    async def at(offset: timedelta, **gone: int) -> None:
        clock.now = START + offset
        await retention.purge()
        expected.update(gone)
        assert await census(client) == expected, f"at START + {offset}"

    await at(PERIODS.web_transcripts)  # exactly the period: not older than it, kept
    await at(PERIODS.web_transcripts + SECOND, transcripts=0)
    await at(PERIODS.verifications)
    await at(PERIODS.verifications + SECOND, verifications=0)
    await at(PERIODS.web_sessions)  # form ids share the sessions' period, from their use
    await at(PERIODS.web_sessions + SECOND, form_ids=0)
    await at(SESSION_LIFETIME + PERIODS.web_sessions)  # a session counts from its expiry
    await at(SESSION_LIFETIME + PERIODS.web_sessions + SECOND, sessions=0, bound_links=0)
    await at(PERIODS.outbox_bodies)
    # Settled messages lose text and secret; the pending reply keeps its text; rows stay.
    await at(PERIODS.outbox_bodies + SECOND, outbox_texts=1, outbox_secrets=0)
    await at(PERIODS.inbound_ids)
    await at(PERIODS.inbound_ids + SECOND, inbound_ids=0)

    async with client.app[keys.DATABASE].read() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    report = await LedgerAudit(client.app[keys.DATABASE], client.app[keys.STUDIES]).verify()
    (pending,) = [row for row in rows if row.status is OutboxStatus.PENDING]
    assert "1. Who we are and why we wrote" in pending.body
    assert all(row.body == "" and row.sent_at is not None for row in rows if row is not pending)
    assert await ledger(client) == ledger_before
    assert (report.findings, report.events) == ([], 5)
    research = await ResearchSystem.register(client)
    assert (await research.consent("R-1"))["records-research"] == "pending"


class CountingDatabase:
    """The real database, counting write transactions."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.writes = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        self.writes += 1
        async with self.db.transaction() as session:
            yield session

    def read(self) -> Any:
        return self.db.read()


async def test_a_backlog_is_purged_in_short_transactions(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    phone = TwilioPhone(client, fake_twilio, "+447400123458")
    for _ in range(5):
        await phone.send("HELP")
    clock.advance(timedelta(days=91))
    real = client.app[keys.RETENTION]
    counting = CountingDatabase(real.deps.db)
    service = RetentionService(replace(real.deps, db=counting), RetentionPeriods(), batch=2)  # type: ignore[arg-type]
    report = await service.purge()
    assert report.inbound_ids == 5
    assert report.outbox_bodies == 0  # the five replies were never sent: pending, kept
    assert (await census(client))["inbound_ids"] == 0
    # Inbound ids in three transactions of 2, 2 and 1; one (empty) for each other kind.
    assert counting.writes == 3 + 5


async def test_the_loop_survives_a_failed_round_and_carries_on() -> None:
    rounds: list[PurgeReport] = []
    done = asyncio.Event()

    class FlakyService:
        calls = 0

        async def purge(self) -> PurgeReport:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("database went away")
            return PurgeReport(inbound_ids=self.calls)

    def seen(report: PurgeReport) -> None:
        rounds.append(report)
        if len(rounds) == 2:
            done.set()

    loop = asyncio.create_task(run_retention(FlakyService(), timedelta(0), on_round=seen))
    await done.wait()
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert rounds == [PurgeReport(inbound_ids=2), PurgeReport(inbound_ids=3)]


async def test_serve_purges_in_the_background_from_the_start(
    client: AppClient,
    settings: Settings,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    twilio_server: TestServer,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await TwilioPhone(client, fake_twilio, "+447400123459").send("HELP")
    assert (await census(client))["inbound_ids"] == 1
    clock.advance(timedelta(days=91))
    rounds: asyncio.Queue[PurgeReport] = asyncio.Queue()
    real_purge = RetentionService.purge

    async def observed(self: RetentionService) -> PurgeReport:
        report = await real_purge(self)
        rounds.put_nowait(report)
        return report

    monkeypatch.setattr(RetentionService, "purge", observed)
    app = create_app(
        settings.with_(twilio_api_base=str(twilio_server.make_url("")).rstrip("/")),
        clock=clock,
        run_background=True,
    )
    await aiohttp_client(app)  # starting the service starts the loop, which purges at once
    report = await rounds.get()
    assert report.inbound_ids == 1
    assert (await census(client))["inbound_ids"] == 0
    (task,) = [task for task in asyncio.all_tasks() if task.get_name() == "retention"]
    assert not task.done()  # and it carries on, to purge again in an hour
