"""Two worker processes on one PostgreSQL: 200 patients at once, every webhook delivered twice.

The real ``consentbot serve --workers 2`` runs as a subprocess with the Twilio gateway
pointed at the fake in this process. Each patient joins by keyword, answers the five
questions, waits out a two-second cooling-off for the reminder, confirms, and every third
then withdraws. Each webhook is posted twice at once with the same MessageSid, as a
gateway that retries does, so the copies often reach different processes; one answered
503 (database busy) is posted again, as a gateway does. Afterwards:

- no lost event: every ledger holds exactly what its patient's texts mean;
- no double message: every outbox row went once, and the fake Twilio took nothing else;
  every timer fired once (one reminder each); every MessageSid was handled once;
- ``consentbot audit verify`` finds every chain intact.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from consentbot.content.loader import load_catalogue
from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.settings import Settings
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database
from consentbot.testkit.twilio import INBOUND_PATH, inbound_params
from tests.faults.promises import wait_until_sent
from tests.faults.records import Records, Transition
from tests.operations.scrape import parse, value
from tests.scaleout.conftest import POSTGRES_ONLY
from tests.scaleout.workers_process import serve_workers
from tests.support.cli import consentbot, twilio_env
from tests.support.content import awake_copy, edit_yaml
from tests.support.journey import PURPOSES, STUDY
from tests.support.twilio_fake import Accepted, FakeTwilio, signature_headers

PATIENTS = 200
REPLY_SECONDS = 30.0
UNAVAILABLE_RETRIES = 4
UNAVAILABLE_PAUSE = 0.5
"""Seconds before a 503 is posted again (the service asks for 30; a test cannot wait so)."""
"""How long a patient waits for a reply before the test fails (it comes in well under one)."""


@dataclass(frozen=True)
class Patient:
    """One phone, its answers to the five questions, and whether it withdraws at the end."""

    number: int

    @property
    def phone(self) -> str:
        return f"+447400900{self.number:03d}"

    @property
    def answers(self) -> tuple[bool, ...]:
        return (True, *(bool(self.number >> bit & 1) for bit in range(len(PURPOSES) - 1)))

    @property
    def withdraws(self) -> bool:
        return self.number % 3 == 0

    def transitions(self) -> list[Transition]:
        """What the ledger must hold: each answer, CONFIRM making each yes active, and
        WITHDRAW withdrawing each active purpose (a no stays declined)."""
        said = [(p, "none", "pending" if yes else "declined") for p, yes in self._purposes()]
        confirmed = [(p, "pending", "active") for p, yes in self._purposes() if yes]
        withdrawn = [(p, "active", "withdrawn") for p, yes in self._purposes() if yes]
        return said + confirmed + (withdrawn if self.withdraws else [])

    def _purposes(self) -> list[tuple[str, bool]]:
        return list(zip(PURPOSES, self.answers, strict=True))


class Phone:
    """Texts the service (each webhook twice at once) and reads the fake Twilio's arrivals."""

    def __init__(self, patient: Patient, session: aiohttp.ClientSession, base_url: str, twilio: FakeTwilio) -> None:
        self.patient = patient
        self.session = session
        self.url = base_url + INBOUND_PATH
        self.arrivals = twilio.arrivals[patient.phone]
        self.unread: list[str] = []
        self.sids: list[str] = []

    async def text(self, body: str, expect: str) -> None:
        """Post ``body`` twice with one MessageSid; wait for a reply containing ``expect``."""
        sid = f"SM{self.patient.number:04d}{len(self.sids):02d}{'0' * 26}"
        self.sids.append(sid)
        params = inbound_params(sid, self.patient.phone, body)
        headers = signature_headers(INBOUND_PATH, params)
        statuses = await asyncio.gather(*(self._post(params, headers) for _ in range(2)))
        assert statuses == [200, 200], (self.patient.phone, body, statuses)
        await self.expect(expect)

    async def _post(self, params: dict[str, str], headers: dict[str, str]) -> int:
        """Post until answered, as a gateway does: a 503 (no pooled database connection
        within ten seconds, seen when 400 posts land at once on a loaded machine) is posted
        again with the same MessageSid, which the service must then handle exactly once."""
        for _ in range(UNAVAILABLE_RETRIES):
            async with self.session.post(self.url, data=params, headers=headers) as response:
                await response.read()
                if response.status != 503:
                    return response.status
            await asyncio.sleep(UNAVAILABLE_PAUSE)
        return 503

    async def expect(self, words: str) -> None:
        """Wait for a message containing ``words``, whenever it arrived.

        Different texts to one number are not promised to arrive in the order they were
        queued when two processes send them (the reminder, two seconds after the last
        answer here, may pass the answer's reply); the parts of one text are.
        """
        try:
            async with asyncio.timeout(REPLY_SECONDS):
                while not any(words in body for body in self.unread):
                    self.unread.append((await self.arrivals.get()).body)
        except TimeoutError:
            raise AssertionError(f"{self.patient.phone}: no reply with {words!r}") from None
        self.unread = [body for body in self.unread if words not in body]


async def journey(phone: Phone) -> None:
    """The whole consent journey of one patient, by SMS."""
    await phone.text("JOINTS", "to read more")
    await phone.text("YES", "Question 1 of 5")
    answers = ["YES" if yes else "NO" for yes in phone.patient.answers]
    for number, answer in enumerate(answers[:-1], start=2):
        await phone.text(answer, f"Question {number} of 5")
    await phone.text(answers[-1], "We will remind you")
    await phone.expect("Your time to think is over")  # the reminder, after cooling-off
    await phone.text("CONFIRM", "now count")
    if phone.patient.withdraws:
        await phone.text("WITHDRAW", "You have left")


def quick_content(folder: Path) -> Path:
    """The sample study without quiet hours (the wall clock runs here) and two seconds of
    cooling-off, so a whole journey takes seconds."""
    content = awake_copy(folder)
    edit_yaml(content / "studies" / STUDY / "study.yaml", lambda study: study.update(cooling_off="PT2S"))
    return content


@POSTGRES_ONLY
async def test_two_workers_lose_nothing_and_send_nothing_twice(
    settings: Settings, fake_twilio: FakeTwilio, twilio_server: TestServer, tmp_path: Path
) -> None:
    configured = settings.with_(content_dir=quick_content(tmp_path / "content"))
    patients = [Patient(number) for number in range(PATIENTS)]
    env = twilio_env(configured, twilio_server)
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2 * PATIENTS)) as session,
        serve_workers(env, 2, tmp_path / "serve.log") as served,
    ):
        await served.wait_ready(session, 2)
        phones = [Phone(patient, session, served.base_url, fake_twilio) for patient in patients]
        await asyncio.gather(*(journey(phone) for phone in phones))

        records = Records(
            Database(configured.effective_database_url),
            PhoneVault(configured.secret_key or ""),
            load_catalogue(configured.content_dir),
        )
        try:
            await wait_until_sent(records)
            handled = Counter(await records.inbound_message_ids())
            assert handled == Counter(sid for phone in phones for sid in phone.sids)
            for patient in patients:
                assert await records.transitions(patient.phone) == patient.transitions(), patient.phone
                await assert_each_sent_once(records, fake_twilio, patient.phone)
        finally:
            await records.db.dispose()

        log = served.log(lines=100_000)
        assert "worker=0" in log
        assert "worker=1" in log
        # Whichever worker answers the scrape counts both workers' turns: the supervisor
        # gave them one multiprocess folder before any of them counted anything.
        turns = sum(handled.values())
        for _ in range(4):
            async with session.get(served.base_url + "/metrics") as scraped:
                assert scraped.status == 200
                seen = parse(await scraped.text())
            counted = {"channel": "sms:twilio", "trigger": "message", "outcome": "handled"}
            assert value(seen, "consentbot_turns_total", **counted) == turns
    audit = await asyncio.to_thread(consentbot, configured, "audit", "verify")
    assert audit.returncode == 0, audit.stderr
    assert "ledger intact" in audit.stdout


async def assert_each_sent_once(records: Records, twilio: FakeTwilio, phone: str) -> None:
    """Every outbox row sent, each paired with one message the fake took, and nothing else
    taken; one reminder (its timer fired once)."""
    rows = await records.outbox(phone)
    assert {row.status for row in rows} == {OutboxStatus.SENT}, phone
    taken: dict[str, Accepted] = {message.sid: message for message in twilio.accepted if message.to == phone}
    for row in rows:
        message = taken.pop(row.provider_id or "", None)
        assert message is not None, f"{phone}: outbox {row.id} is marked sent, Twilio never took it"
        assert message.body == row.body
    assert not taken, f"{phone}: Twilio took {len(taken)} messages no outbox row accounts for"
    assert sum(row.kind == OutboxKind.CONFIRM_REMINDER for row in rows) == 1, phone
