"""``consentbot announce`` as a research team runs it: checked, dry-run, sent, run again."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func
from sqlmodel import select

from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.domain.status import ConsentStatus
from consentbot.runtime import load_content, open_runtime
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.database import Database
from consentbot.store.tables import Announcement, OutboxMessage
from consentbot.testkit.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    SERVICE_NUMBER,
    FakeTwilio,
)
from tests.announce.seed import TEXTS, people, seed, update_file
from tests.support.cli import env_for
from tests.support.content import awake_copy
from tests.support.databases import SQLITE_ONLY
from tests.support.journey import STUDY

ACTIVE = ConsentStatus.ACTIVE
PERSONS = people(
    ("en", ACTIVE), ("en", ACTIVE), ("ur", ACTIVE), ("pl", ConsentStatus.WITHDRAWN), ("cy", ACTIVE),
    stopped=[1],
)


@pytest.fixture
async def settings(settings: Settings, clock: ManualClock, tmp_path: Path) -> Settings:
    """The sample study published, with PERSONS in it.

    Without quiet hours: the command runs on the wall clock, and would hold every message
    until morning when the suite runs in the evening.
    """
    settings = settings.with_(content_dir=awake_copy(tmp_path / "awake"))
    async with open_runtime(settings, load_content(settings), clock=clock) as runtime:
        await runtime.publishing.publish(STUDY, "Dr Ada")
    async with open_runtime(settings, load_content(settings), clock=clock) as runtime:
        await seed(runtime.db, runtime.invitations, clock, PERSONS)
    return settings


async def announce(
    settings: Settings, twilio: TestServer, *args: str
) -> tuple[int, str, str]:
    env = env_for(settings) | {
        "CONSENTBOT_SMS_GATEWAY": "twilio",
        "CONSENTBOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "CONSENTBOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CONSENTBOT_TWILIO_FROM": SERVICE_NUMBER,
        "CONSENTBOT_TWILIO_API_BASE": str(twilio.make_url("")).rstrip("/"),
        "CONSENTBOT_PUBLIC_URL": PUBLIC_URL,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "consentbot", "announce", "--study", STUDY, *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, stdout.decode(), stderr.decode()


async def announcement_rows(settings: Settings) -> tuple[int, list[OutboxStatus]]:
    db = Database(settings.effective_database_url)
    try:
        async with db.read() as session:
            started = (await session.exec(select(func.count()).select_from(Announcement))).one()
            statuses = (
                await session.exec(
                    select(OutboxMessage.status).where(OutboxMessage.kind == OutboxKind.ANNOUNCEMENT)
                )
            ).all()
    finally:
        await db.dispose()
    return started, sorted(OutboxStatus(status) for status in statuses)


async def test_dry_run_prints_counts_per_language_and_segments_and_changes_nothing(
    settings: Settings, fake_twilio: FakeTwilio, twilio_server: TestServer, tmp_path: Path
) -> None:
    path = tmp_path / "update.yaml"
    path.write_text(update_file(), encoding="utf-8")
    code, stdout, stderr = await announce(settings, twilio_server, "--file", str(path), "--dry-run")
    assert code == 0, stderr
    assert stdout.splitlines() == [
        f"results-2027-01 to {STUDY}: 4 people whose 'updates' is active",
        "  en: 2 people, 1 segment each in GSM-7 (2 in all); 1 of them sent STOP and will not get it",
        "  cy: 1 person, 1 segment each in GSM-7 (1 in all)",
        "  pl: 0 people, 3 segments each in UCS-2 (0 in all)",
        "  ur: 1 person, 2 segments each in UCS-2 (2 in all)",
        "dry run: nothing was stored or sent",
    ]
    assert fake_twilio.accepted == []
    assert await announcement_rows(settings) == (0, [])


async def test_sent_once_to_each_active_person_and_a_second_run_sends_nothing(
    settings: Settings, fake_twilio: FakeTwilio, twilio_server: TestServer, tmp_path: Path
) -> None:
    path = tmp_path / "update.yaml"
    path.write_text(update_file(), encoding="utf-8")
    code, stdout, stderr = await announce(settings, twilio_server, "--file", str(path))
    assert code == 0, stderr
    assert stdout.startswith("results-2027-01: 4 queued by this run; of everyone queued so far, ")
    assert "1 not sent: the number has sent STOP" in stdout
    started, statuses = await announcement_rows(settings)
    assert started == 1
    assert sorted(statuses) == sorted([OutboxStatus.SENT] * 3 + [OutboxStatus.SUPPRESSED])
    news = [m for m in fake_twilio.accepted if any(text in m.body for text in TEXTS.values())]
    assert {m.to for m in news} <= {PERSONS[n].phone for n in (0, 2, 4)}
    assert len(news) == statuses.count(OutboxStatus.SENT)
    for message in news:
        language = next(p.language for p in PERSONS if p.phone == message.to)
        assert TEXTS[language] in message.body

    code, stdout, stderr = await announce(settings, twilio_server, "--file", str(path))
    assert code == 0, stderr
    assert stdout.splitlines() == [
        "4 already sent it (or queued), skipped",
        "nobody new to send results-2027-01 to",
    ]
    assert (await announcement_rows(settings))[1] == statuses


@SQLITE_ONLY
async def test_a_bad_file_names_each_field_and_sends_nothing(
    settings: Settings, fake_twilio: FakeTwilio, twilio_server: TestServer, tmp_path: Path
) -> None:
    path = tmp_path / "update.yaml"
    path.write_text(
        update_file(texts={"en": "Results {link}", "cy": TEXTS["cy"], "fr": "Résultats"}),
        encoding="utf-8",
    )
    code, stdout, stderr = await announce(settings, twilio_server, "--file", str(path))
    assert code == 1
    assert stdout == ""
    assert stderr.splitlines() == [
        f"{path}: texts.pl: is missing: every language of the study needs its text",
        f"{path}: texts.ur: is missing: every language of the study needs its text",
        f"{path}: texts.en: unknown placeholder {{link}}: only keywords can be filled in ({{call}}, "
        "{change}, {choices}, {confirm}, {help}, {language}, {later}, {more}, {no}, {start}, "
        "{stop}, {who}, {withdraw}, {yes})",
        f"{path}: texts.fr: is not a language of the study (en, cy, pl, ur)",
        f"consentbot: 4 problems in {path}: nothing was sent. Fix the file and run the command again.",
    ]
    missing = tmp_path / "nowhere.yaml"
    code, _, stderr = await announce(settings, twilio_server, "--file", str(missing))
    assert (code, stderr) == (1, f"consentbot: --file {missing}: No such file or directory\n")
    path.write_text(update_file(), encoding="utf-8")
    code, _, stderr = await announce(settings, twilio_server, "--file", str(path), "--study", "nope")
    assert code == 1
    assert "nope" in stderr
    assert fake_twilio.accepted == []
    assert await announcement_rows(settings) == (0, [])
