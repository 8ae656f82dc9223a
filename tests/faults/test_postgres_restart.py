"""Restart PostgreSQL under the service while patients text, as a failover or upgrade would."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from consentbot.app import create_app
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store import migrate
from consentbot.store.inbound import InboundRepository
from consentbot.store.outbox import IN_FLIGHT
from tests.conftest import AppClient
from tests.faults.private_postgres import PrivateCluster, private_cluster
from tests.faults.promises import assert_promises_kept, wait_until_sent
from tests.faults.records import Records
from tests.faults.traffic import Gateway, Traffic, scripts
from tests.support.twilio_fake import FakeTwilio

PATIENTS = 16
PARKED = 3
RETRY_DELAY = 0.05
"""A gateway's pause before trying a webhook again (pacing, not synchronisation)."""


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    with private_cluster() as running:
        yield running


@pytest.fixture
def database_url(cluster: PrivateCluster) -> str:
    """This module runs on its private cluster only (instead of SQLite and the shared server)."""
    migrate.upgrade(cluster.url)
    return cluster.url


class Parking:
    """Holds the next ``PARKED`` inbound messages inside their transactions (their MessageSid
    written, nothing committed) until released, so the restart surely cuts off work in
    progress rather than only falling between requests."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.armed = False
        self.parked = 0
        self.full = asyncio.Event()
        self.released = asyncio.Event()
        original = InboundRepository.first_time

        async def first_time(repository: InboundRepository, *args: Any, **kwargs: Any) -> bool:
            first = await original(repository, *args, **kwargs)
            if self.armed and self.parked < PARKED:
                self.parked += 1
                if self.parked == PARKED:
                    self.full.set()
                await self.released.wait()
            return first

        monkeypatch.setattr(InboundRepository, "first_time", first_time)


async def test_postgres_restart_during_traffic_loses_nothing_and_does_nothing_twice(
    cluster: PrivateCluster,
    settings: Settings,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    twilio_server: TestServer,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promises: a consent change commits with the state it changes, or not at all; inbound
    handling is idempotent on the MessageSid; a message is sent at most once.

    The app (the real factory, with its outbox and scheduler loops running) serves
    patients texting at once; after a third of the webhooks were answered, three are held
    mid-transaction and ``pg_ctl restart -m fast`` runs while the others keep coming. The
    gateway retries anything that got no 2xx (whatever the status), and afterwards some
    webhooks that did get one.
    """
    api_base = str(twilio_server.make_url("")).rstrip("/")
    configured = settings.with_(twilio_api_base=api_base, scheduler_interval=0.1)
    client = await aiohttp_client(create_app(configured, clock=clock, run_background=True))
    patients = scripts(PATIENTS)
    gateway = Gateway(client.session, str(client.make_url("")))
    traffic = Traffic(gateway, patients, between_tries=lambda: asyncio.sleep(RETRY_DELAY))
    parking = Parking(monkeypatch)

    def arm() -> None:
        parking.armed = True

    traffic.when_answered(len(traffic.webhooks) // 3, arm)
    walking = asyncio.create_task(traffic.run())
    await asyncio.wait(
        [walking, asyncio.create_task(parking.full.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    assert parking.full.is_set(), walking.result()
    server_before = cluster.postmaster_pid()
    await cluster.restart()
    assert cluster.postmaster_pid() != server_before
    parking.released.set()
    await walking
    assert traffic.refused >= PARKED

    again = traffic.webhooks[::4] + [conversation[-1] for conversation in traffic.conversations]
    assert all(await asyncio.gather(*(gateway.post(hook) for hook in again)))
    # A dispatch round whose outcome the restart cut off leaves its messages "sending".
    # This clock stands still, so every text carries the same created_at and the number's
    # later replies look like later parts of the lost one: they wait IN_FLIGHT behind it,
    # as such parts would in real time. Let that time pass.
    clock.advance(IN_FLIGHT + timedelta(seconds=1))
    records = Records.of(client.app)
    await wait_until_sent(records)
    await assert_promises_kept(records, patients, traffic.webhooks, fake_twilio)
