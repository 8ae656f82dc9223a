"""``consentbot audit verify`` names the broken event when the ledger is tampered with."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from consentbot import keys
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient
from tests.support.cli import consentbot
from tests.support.journey import ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone


async def journey(client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock) -> None:
    research = await ResearchSystem.register(client)
    for n in (1, 2):
        phone = TwilioPhone(client, fake_twilio, f"+44740090030{n}")
        await research.invite(phone.number, f"L-{n}")
        for answer in ["YES", "YES", "YES", "NO", "NO", "YES"]:
            await phone.send(answer)
    clock.advance(timedelta(days=1))
    await phone.send("CONFIRM")  # 2 x 5 answers, then 3 yeses confirmed: 13 events


async def execute(client: AppClient, sql: str) -> None:
    async with client.app[keys.DATABASE].transaction() as session:
        await session.exec(text(sql))  # type: ignore[call-overload]


async def test_intact_ledger_verifies(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await journey(client, fake_twilio, clock)
    result = consentbot(settings, "audit", "verify")
    assert result.returncode == 0, result.stderr
    assert "ledger intact: 13 events checked" in result.stdout


async def test_altered_event_is_named(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await journey(client, fake_twilio, clock)
    await execute(client, "UPDATE consent_event SET to_status = 'active' WHERE id = 3")
    result = consentbot(settings, "audit", "verify")
    assert result.returncode == 1
    assert (
        "fault: participant 1 (joint-health-records, reference L-1), event 3 (seq 3): "
        "hash does not match the event's contents: it was altered"
    ) in result.stderr


async def test_removed_event_is_detected(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await journey(client, fake_twilio, clock)
    await execute(client, "DELETE FROM consent_event WHERE id = 2")
    result = consentbot(settings, "audit", "verify")
    assert result.returncode == 1
    assert "participant 1 (joint-health-records, reference L-1), event 3 (seq 3): expected seq 2" in result.stderr


async def test_removed_last_event_is_detected(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await journey(client, fake_twilio, clock)
    await execute(client, "DELETE FROM consent_event WHERE id = (SELECT MAX(id) FROM consent_event)")
    result = consentbot(settings, "audit", "verify")
    assert result.returncode == 1
    assert "an event was removed" in result.stderr


async def test_projection_disagreeing_with_ledger_is_detected(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await journey(client, fake_twilio, clock)
    await execute(client, "UPDATE consent_state SET status = 'active' WHERE purpose_id = 'recontact'")
    result = consentbot(settings, "audit", "verify")
    assert result.returncode == 1
    assert "does not match the ledger" in result.stderr
