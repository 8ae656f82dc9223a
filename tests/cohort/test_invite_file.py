"""``consentbot invite --file``: a 5,000-person cohort, interrupted and resumed, nobody twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func
from sqlmodel import col, select

from consentbot.domain.timers import TimerKind, TimerStatus
from consentbot.settings import Settings
from consentbot.store.database import Database
from consentbot.store.tables import OutboxMessage, Participant, Timer
from consentbot.testkit.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    SERVICE_NUMBER,
    FakeTwilio,
)
from tests.support.cli import env_for
from tests.support.journey import STUDY

# 5,000 rows (the cohort) take minutes per database: the suite runs a fifth of that,
# which exercises the same interrupt-and-resume path. CONSENTBOT_TEST_COHORT=5000 runs it whole.
COHORT = int(os.environ.get("CONSENTBOT_TEST_COHORT", "1000"))


def cohort_file(folder: Path, size: int) -> tuple[Path, list[str]]:
    numbers = [f"+447400{900000 + n:06d}" for n in range(size)]
    rows = [f"0{number[3:7]} {number[7:]},P-{n:05d}" for n, number in enumerate(numbers)]
    path = folder / "cohort.csv"
    path.write_text("\ufeffphone,reference\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path, numbers


async def invite(settings: Settings, twilio: TestServer, path: Path) -> asyncio.subprocess.Process:
    env = env_for(settings) | {
        "CONSENTBOT_SMS_GATEWAY": "twilio",
        "CONSENTBOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "CONSENTBOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CONSENTBOT_TWILIO_FROM": SERVICE_NUMBER,
        "CONSENTBOT_TWILIO_API_BASE": str(twilio.make_url("")).rstrip("/"),
        "CONSENTBOT_PUBLIC_URL": PUBLIC_URL,
        "CONSENTBOT_SEND_RATE": "100000",  # the pacing has its own tests; here, no waiting
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "consentbot", "invite", "--study", STUDY, "--file", str(path),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def outcome(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=600)
    return process.returncode or 0, stdout.decode(), stderr.decode()


@pytest.mark.timeout(1200)  # COHORT pipeline turns and SMS
async def test_a_cohort_interrupted_and_run_again_reaches_everyone_once(
    settings: Settings, fake_twilio: FakeTwilio, twilio_server: TestServer, tmp_path: Path
) -> None:
    path, numbers = cohort_file(tmp_path, COHORT)
    first = await invite(settings, twilio_server, path)
    # Another process's progress, seen only in what the fake gateway has accepted.
    while len(fake_twilio.accepted) < COHORT // 5 and first.returncode is None:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if first.returncode is not None:
        code, stdout, stderr = await outcome(first)
        pytest.fail(f"the first run ended before it was interrupted ({code}): {stdout}{stderr}")
    first.send_signal(signal.SIGINT)  # Ctrl-C, part way through
    code, _, stderr = await outcome(first)
    assert code == 130, stderr
    assert "run the same command again to carry on" in stderr

    db = Database(settings.effective_database_url)
    try:
        async with db.read() as session:
            invited = (await session.exec(select(func.count()).select_from(Participant))).one()
            waiting = (
                await session.exec(
                    select(func.count()).select_from(Timer).where(
                        Timer.kind == TimerKind.INVITATION, Timer.status == TimerStatus.PENDING
                    )
                )
            ).one()
        assert invited == COHORT, "everyone is stored before anything is sent"
        assert 0 < waiting <= COHORT - COHORT // 5

        code, stdout, stderr = await outcome(await invite(settings, twilio_server, path))
        assert code == 0, stderr
        assert f"{COHORT:,} already invited, skipped" in stdout
        assert f"{waiting:,} invited earlier and not sent yet: sending them now" in stdout
        assert f"{waiting:,} invited to {STUDY}:" in stdout

        async with db.read() as session:
            statuses = Counter((await session.exec(select(OutboxMessage.status))).all())
            participants = (await session.exec(select(func.count()).select_from(Participant))).one()
            per_participant = Counter(
                (await session.exec(select(OutboxMessage.participant_id).order_by(col(OutboxMessage.id)))).all()
            )
    finally:
        await db.dispose()
    assert participants == COHORT
    assert set(per_participant.values()) == {1}, "one invitation SMS each"
    # A message claimed when Ctrl-C came may or may not have gone: it stays "sending" (later
    # "unknown") and is never sent again. Everyone else got exactly one message.
    assert set(statuses) <= {"sent", "sending"}
    received = Counter(message.to for message in fake_twilio.accepted)
    assert set(received.values()) == {1}, "nobody was sent anything twice"
    assert len(received) >= statuses["sent"]
    assert set(received) <= set(numbers)
    assert COHORT - len(received) <= statuses["sending"]


async def test_a_file_with_bad_rows_invites_nobody_and_names_each_line(
    settings: Settings, fake_twilio: FakeTwilio, twilio_server: TestServer, tmp_path: Path
) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text(
        "phone,reference,language\n"
        "07400 900001,P-1,\n"
        "07400 900002,P-2,fr\n"
        "07400 900001,P-3,\n"
        "07400 900004,P-1,pl\n"
        "not a number,P-5,\n"
        "07400 900006,P-6\n",
        encoding="utf-8",
    )
    code, _, stderr = await outcome(await invite(settings, twilio_server, path))
    assert code == 1
    assert stderr.splitlines() == [
        f"{path}: line 3: language: 'fr' is not offered by this study (it offers en, cy, pl, ur)",
        f"{path}: line 4: phone: the same number as line 2",
        f"{path}: line 5: reference: the same as line 2",
        f"{path}: line 6: phone: is not a phone number",
        f"{path}: line 7: has 2 fields, the header has 3",
        f"consentbot: 5 bad rows in {path}: nobody was invited. Fix them and run the command again.",
    ]
    assert fake_twilio.accepted == []
    db = Database(settings.effective_database_url)
    try:
        async with db.read() as session:
            assert (await session.exec(select(func.count()).select_from(Participant))).one() == 0
    finally:
        await db.dispose()
