"""With PROMETHEUS_MULTIPROC_DIR set (``serve --workers N``), any process's /metrics counts
every process's work, and the database's queue gauges appear once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from consentbot.settings import Settings
from consentbot.testkit.twilio import INBOUND_PATH, inbound_params
from tests.faults.service_process import ServiceProcess, service_process
from tests.operations.scrape import parse, value
from tests.support.cli import env_for
from tests.support.databases import SQLITE_ONLY
from tests.support.twilio_fake import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    SERVICE_NUMBER,
    FakeTwilio,
    signature_headers,
)

PHONES = ("+447400900311", "+447400900312")


async def text_in(session: aiohttp.ClientSession, service: ServiceProcess, sid: str, phone: str) -> None:
    params = inbound_params(sid, phone, "JOINTS")
    headers = signature_headers(INBOUND_PATH, params, PUBLIC_URL)
    async with session.post(f"{service.base_url}{INBOUND_PATH}", data=params, headers=headers) as answer:
        assert answer.status == 200, await answer.text()


@SQLITE_ONLY
async def test_one_process_scrape_adds_up_every_process(
    settings: Settings, fake_twilio: FakeTwilio, twilio_server: TestServer, tmp_path: Path
) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = env_for(settings) | {
        "CONSENTBOT_SMS_GATEWAY": "twilio",
        "CONSENTBOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "CONSENTBOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CONSENTBOT_TWILIO_FROM": SERVICE_NUMBER,
        "CONSENTBOT_TWILIO_API_BASE": str(twilio_server.make_url("")).rstrip("/"),
        "CONSENTBOT_PUBLIC_URL": PUBLIC_URL,
        "CONSENTBOT_SCHEDULER_INTERVAL": "0.1",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
    }
    async with (
        aiohttp.ClientSession() as session,
        service_process(env, tmp_path / "first.log") as first,
        service_process(env, tmp_path / "second.log") as second,
    ):
        await first.start(session)
        await second.start(session)  # one after the other: the first migrates the file
        await text_in(session, first, "SM" + "1" * 32, PHONES[0])
        await text_in(session, second, "SM" + "2" * 32, PHONES[1])
        for phone in PHONES:
            await asyncio.wait_for(fake_twilio.arrivals[phone].get(), 30)
        sent = sum(len(fake_twilio.inbox[phone]) for phone in PHONES)
        # The second process may still be recording its send: the counter follows the send.
        for _ in range(100):
            async with session.get(f"{first.base_url}/metrics") as scraped:
                assert scraped.status == 200
                text = await scraped.text()
            seen = parse(text)
            if value(seen, "consentbot_sms_total", gateway="twilio", outcome="sent") >= sent:
                break
            await asyncio.sleep(0.1)
        handled = {"channel": "sms:twilio", "trigger": "message", "outcome": "handled"}
        assert value(seen, "consentbot_turns_total", **handled) == 2
        assert value(seen, "consentbot_sms_total", gateway="twilio", outcome="sent") == sent
        assert value(seen, "consentbot_turn_stage_seconds_count", stage="decide") == 2
        inbound = {"method": "POST", "route": INBOUND_PATH, "status": "200"}
        assert value(seen, "consentbot_http_requests_total", **inbound) == 2
        # The queues are the database's: read once, by the process that answers.
        assert [line for line in text.splitlines() if line.startswith("consentbot_database_up")] == [
            "consentbot_database_up 1.0"
        ]
        assert value(seen, "consentbot_outbox_messages", state="due") == 0
        # A live sum, not one series per process: the scrape itself is the one request.
        assert value(seen, "consentbot_http_requests_in_flight") == 1
        assert any(path.suffix == ".db" for path in folder.iterdir())  # each process's files
        await second.stop()
        async with session.get(f"{first.base_url}/metrics") as scraped:
            after = parse(await scraped.text())
        # What a stopped worker counted still counts; what it had in flight no longer does.
        assert value(after, "consentbot_turns_total", **handled) == 2
        assert value(after, "consentbot_http_requests_in_flight") == 1
