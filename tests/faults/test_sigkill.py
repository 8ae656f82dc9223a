"""SIGKILL the real service in the middle of turns, restart it, let the gateway retry."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from consentbot.content.loader import load_catalogue
from consentbot.settings import Settings
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database
from tests.faults.promises import assert_promises_kept, wait_until_sent
from tests.faults.records import Records
from tests.faults.service_process import service_process
from tests.faults.traffic import Gateway, Traffic, Webhook, scripts
from tests.support.cli import consentbot, twilio_env
from tests.support.twilio_fake import (
    FakeTwilio,
)

PATIENTS = 16


@dataclass
class Killed:
    """What the gateway saw at the moment of the kill."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: int = 0
    answered: list[Webhook] = field(default_factory=list)


async def test_sigkill_mid_turn_loses_nothing_and_does_nothing_twice(
    settings: Settings, fake_twilio: FakeTwilio, twilio_server: TestServer, tmp_path: Path
) -> None:
    """Promises: a consent change is written in one transaction with the state it changes
    and the replies it causes; inbound handling is idempotent on the MessageSid; a message
    is sent at most once (a row caught in ``sending`` is never sent again).

    Patients text at once; the service is SIGKILLed after a third of the webhooks were
    answered, with others in flight, and restarted on the same port. The gateway retries
    every webhook that got no 2xx, and afterwards some that did.
    """
    patients = scripts(PATIENTS)
    env = twilio_env(settings, twilio_server)
    async with (
        aiohttp.ClientSession() as session,
        service_process(env, tmp_path / "service.log") as service,
    ):
        await service.start(session)
        up = asyncio.Event()
        up.set()
        gateway = Gateway(session, service.base_url)
        traffic = Traffic(gateway, patients, between_tries=up.wait)
        killed = Killed()

        def kill() -> None:
            up.clear()  # the gateway holds its retries until the service is back
            killed.in_flight = traffic.in_flight
            killed.answered = [hook for hook in traffic.webhooks if hook.acked]
            service.kill()
            killed.event.set()

        traffic.when_answered(len(traffic.webhooks) // 3, kill)
        walking = asyncio.create_task(traffic.run())
        await asyncio.wait(
            [walking, asyncio.create_task(killed.event.wait())],
            return_when=asyncio.FIRST_COMPLETED,
        )
        assert killed.event.is_set(), walking.result()
        assert await service.wait() == -signal.SIGKILL
        await service.start(session)
        up.set()
        await walking
        assert killed.in_flight > 0, "the kill should catch webhooks in flight"
        assert traffic.refused > 0

        # A gateway that missed the answers also retries webhooks the service did handle.
        again = killed.answered[::3] + [conversation[-1] for conversation in traffic.conversations]
        assert all(await asyncio.gather(*(gateway.post(hook) for hook in again)))

        vault = PhoneVault(settings.secret_key or "")
        studies = load_catalogue(settings.content_dir)
        records = Records(Database(settings.effective_database_url), vault, studies)
        try:
            await wait_until_sent(records)
            await service.stop()
            await assert_promises_kept(records, patients, traffic.webhooks, fake_twilio)
        finally:
            await records.db.dispose()
    audit = await asyncio.to_thread(consentbot, settings, "audit", "verify")
    assert audit.returncode == 0, audit.stderr
    assert "ledger intact" in audit.stdout, service.log()
