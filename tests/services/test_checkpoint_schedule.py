"""``serve`` writes a signed checkpoint every CONSENTBOT_AUDIT_CHECKPOINT_EVERY, and picks up after a restart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp.test_utils import TestServer

from consentbot import keys
from consentbot.app import create_app
from consentbot.domain.checkpoint import parse
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.signing_key import signing_key
from consentbot.store.tables import ConsentEvent
from tests.conftest import AppClient
from tests.support.tamper import execute, rewrite, two_participants
from tests.support.twilio_fake import FakeTwilio

Start = Callable[..., Awaitable[AppClient]]


def checkpoints_of(settings: Settings) -> dict[str, int]:
    """File name -> events covered, for every checkpoint in the folder (signature checked)."""
    assert settings.audit_checkpoint_dir is not None
    public = signing_key(settings.audit_signing_key, settings.data_dir).public_key()
    return {
        path.name: parse(path.read_text(), public).event_count
        for path in sorted(settings.audit_checkpoint_dir.iterdir())
    }


def configure(settings: Settings, twilio_server: TestServer) -> Settings:
    return settings.with_(
        twilio_api_base=str(twilio_server.make_url("")).rstrip("/"),
        audit_checkpoint_dir=settings.data_dir / "checkpoints",
    )


async def test_due_at_start_then_every_day_and_relative_to_the_newest_after_a_restart(
    settings: Settings,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    twilio_server: TestServer,
    aiohttp_client: Start,
) -> None:
    configured = configure(settings, twilio_server)
    first = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    await two_participants(first, fake_twilio, clock)  # the clock is now 2026-12-02 10:00
    schedule = first.app[keys.CHECKPOINTS]
    written = await schedule.run_due()
    assert written is not None
    assert written.name == "checkpoint-20261202T100000Z.json"
    assert await schedule.run_due() is None
    clock.advance(timedelta(hours=23, minutes=59))
    assert await schedule.run_due() is None
    clock.advance(timedelta(minutes=1))
    assert await schedule.run_due() is not None
    assert checkpoints_of(configured) == {
        "checkpoint-20261202T100000Z.json": 13,
        "checkpoint-20261203T100000Z.json": 13,
    }
    await first.close()

    clock.advance(timedelta(hours=12))
    second = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    schedule = second.app[keys.CHECKPOINTS]
    assert await schedule.run_due() is None  # the newest is only 12 hours old
    clock.advance(timedelta(hours=12))
    later = await schedule.run_due()
    assert later is not None
    assert later.name == "checkpoint-20261204T100000Z.json"


async def test_the_background_task_writes_one_at_start_and_stops_with_the_app(
    settings: Settings, clock: ManualClock, twilio_server: TestServer, aiohttp_client: Start
) -> None:
    configured = configure(settings, twilio_server)
    client = await aiohttp_client(create_app(configured, clock=clock, run_background=True))
    await client.app[keys.CHECKPOINTS].wait_written()
    await client.close()
    assert checkpoints_of(configured) == {"checkpoint-20261201T100000Z.json": 0}


async def test_no_folder_no_checkpoints(client: AppClient) -> None:
    assert keys.CHECKPOINTS not in client.app


async def test_a_broken_chain_is_not_signed(
    settings: Settings,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    twilio_server: TestServer,
    aiohttp_client: Start,
) -> None:
    configured = configure(settings, twilio_server)
    client = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    await two_participants(client, fake_twilio, clock)
    await execute(client, "UPDATE consent_event SET language = 'pl' WHERE id = 2")
    schedule = client.app[keys.CHECKPOINTS]
    assert await schedule.run_due() is None
    assert schedule.due() == clock() + timedelta(days=1)
    folder = configured.audit_checkpoint_dir
    assert folder is not None
    assert not folder.exists() or list(folder.iterdir()) == []




async def test_a_rewrite_since_the_newest_checkpoint_is_not_signed(
    settings: Settings,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    twilio_server: TestServer,
    aiohttp_client: Start,
) -> None:
    """Otherwise an insider would only need to wait for the next checkpoint to have the rewrite signed."""
    configured = configure(settings, twilio_server)
    client = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    phones = await two_participants(client, fake_twilio, clock)
    schedule = client.app[keys.CHECKPOINTS]
    assert await schedule.run_due() is not None

    def in_welsh(events: list[ConsentEvent]) -> None:
        events[0].language = "cy"

    await rewrite(client, 1, in_welsh)
    await phones[1].send("WITHDRAW")  # the service goes on writing meanwhile
    clock.advance(timedelta(days=1))
    assert await schedule.run_due() is None
    assert list(checkpoints_of(configured)) == ["checkpoint-20261202T100000Z.json"]
