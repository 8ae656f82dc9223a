"""Fixtures for the fault tests: the service with a Twilio gateway whose waiting is recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from consentbot.app import create_app
from consentbot.channels.twilio import TwilioGateway
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient
from tests.support.recording import RecordingSleep
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SERVICE_NUMBER

TWILIO_TIMEOUT = 1.0
"""Seconds the gateway waits for Twilio's answer here: long enough for the fake, which runs
in the same event loop and records a message the moment it arrives, and short enough for
a test that waits for it to run out."""


@dataclass
class Service:
    """The app under test and the backoff its Twilio gateway asked to sleep."""

    client: AppClient
    backoff: RecordingSleep


@pytest.fixture
async def service(
    settings: Settings,
    clock: ManualClock,
    twilio_server: TestServer,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> AsyncIterator[Service]:
    """The service from the real factory, sending through the real TwilioGateway to the fake.

    As the ``client`` fixture, but the gateway's backoff is recorded instead of slept (the
    test runs in a second, the delays are still checked) and it gives up waiting for an
    answer after ``TWILIO_TIMEOUT``.
    """
    api_base = str(twilio_server.make_url("")).rstrip("/")
    backoff = RecordingSleep()
    async with aiohttp.ClientSession() as session:
        gateway = TwilioGateway(
            session,
            api_base=api_base,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            sender=SERVICE_NUMBER,
            status_callback_url=f"{PUBLIC_URL}/sms/twilio/status",
            request_timeout=TWILIO_TIMEOUT,
            sleep=backoff,
        )
        app = create_app(
            settings.with_(twilio_api_base=api_base),
            clock=clock,
            gateway=gateway,
            run_background=False,
        )
        yield Service(await aiohttp_client(app), backoff)
