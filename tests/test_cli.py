"""The ``consentbot`` command, run as a real process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from consentbot import keys
from consentbot.settings import Settings
from consentbot.store.crypto import key_id_of
from consentbot.store.database import Database
from consentbot.store.tables import ApiToken, OutboxMessage, Participant, PublishedVersion
from consentbot.testkit.ports import free_port
from tests.conftest import AppClient
from tests.support.cli import consentbot, env_for
from tests.support.content import awake_copy, cover_everything, study_copy
from tests.support.databases import SQLITE_ONLY
from tests.support.journey import ROOT, STUDY, ResearchSystem


async def test_token_create_prints_a_working_token_on_its_last_line(client: AppClient, settings: Settings) -> None:
    result = consentbot(settings, "token", "create", "--study", STUDY, "--label", "cohort system")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("cbt_")
    assert "not shown again" in result.stderr
    assert await client.app[keys.TOKENS].study_of(token) == STUDY
    response = await client.get(
        f"/api/v1/studies/{STUDY}/participants", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 200


def test_token_for_an_unknown_study_fails_clearly(settings: Settings) -> None:
    result = consentbot(settings, "token", "create", "--study", "no-such-study")
    assert result.returncode == 1
    assert "there is no study 'no-such-study'" in result.stderr


def test_invite_from_the_shell_sends_through_the_console_gateway(settings: Settings, tmp_path: Path) -> None:
    # Without quiet hours: the command runs on the wall clock, and would hold the invitation at night.
    console = settings.with_(sms_gateway="console", content_dir=awake_copy(tmp_path / "content"))
    published = consentbot(console, "content", "publish", "--study", STUDY, "--by", "Dr Ada")
    assert published.returncode == 0, published.stderr
    args = ("invite", "--study", STUDY, "--phone", "07400 900501", "--reference", "C-1", "--language", "pl")
    env = env_for(console) | {"CONSENTBOT_SMS_GATEWAY": "console"}
    result = subprocess.run(
        [sys.executable, "-m", "consentbot", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--- SMS to +447400900501 ---" in result.stdout  # the console gateway's print
    assert "C-1 invited to joint-health-records in pl" in result.stdout
    again = subprocess.run(
        [sys.executable, "-m", "consentbot", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert "C-1 was already invited" in again.stdout
    assert "--- SMS" not in again.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "consentbot", "invite", "--study", STUDY, "--phone", "12", "--reference", "C-2"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert bad.returncode == 1
    assert "phone: is not" in bad.stderr


async def stored_rows(settings: Settings) -> dict[str, int]:
    db = Database(settings.effective_database_url)
    try:
        async with db.read() as session:
            return {
                table.__tablename__: (await session.exec(select(func.count()).select_from(table))).one()
                for table in (PublishedVersion, Participant, OutboxMessage, ApiToken)
            }
    finally:
        await db.dispose()


async def test_only_serve_publishes_a_study_never_published(settings: Settings, tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("phone,reference\n07400 900502,C-3\n", encoding="utf-8")
    needing_the_study = [
        ("invite", "--study", STUDY, "--phone", "07400 900501", "--reference", "C-1"),
        ("invite", "--study", STUDY, "--file", str(cohort)),
        ("token", "create", "--study", STUDY),
        ("participant", "erase", "--study", STUDY, "--reference", "C-1"),
    ]
    for args in needing_the_study:
        result = consentbot(settings, *args)
        assert result.returncode == 1, (args, result.stdout)
        assert result.stderr.strip() == (
            f"consentbot: study {STUDY} has never been published: run "
            f"`consentbot content publish --study {STUDY} --by NAME` (or start `consentbot serve`)"
        ), args
    assert set((await stored_rows(settings)).values()) == {0}, "nothing published, invited, sent or created"


async def test_keys_rotate_moves_everything_to_the_new_key_and_says_when_the_old_can_go(
    client: AppClient, settings: Settings
) -> None:
    research = await ResearchSystem.register(client)
    await research.invite("+447400123410", "K-1")  # under the old key, its link waiting to go
    new = "the-new-secret-key-after-rotation-0123456789"
    old_id, new_id = key_id_of(settings.secret_key or ""), key_id_of(new)
    rotated = settings.with_(secret_key=new, previous_secret_keys=(settings.secret_key,))

    status = consentbot(rotated, "keys", "status")
    assert status.returncode == 0, status.stderr
    assert f"current key: {new_id}; previous: {old_id}" in status.stdout
    assert f"contact.phone_encrypted: 1 under {old_id} (previous)" in status.stdout
    assert f"outbox.secret_encrypted: 1 under {old_id} (previous)" in status.stdout
    assert "2 rows are not under the current key: run `consentbot keys rotate`." in status.stdout

    forgotten = consentbot(settings.with_(secret_key=new), "keys", "rotate")
    assert forgotten.returncode == 1
    assert f"contact 1: stored phone number was encrypted with key {old_id}, which is not configured" in forgotten.stderr
    assert f"1 under {old_id} (NOT CONFIGURED)" in forgotten.stdout

    result = consentbot(rotated, "keys", "rotate", "--batch-size", "1")
    assert result.returncode == 0, result.stderr
    assert (
        f"rewritten under key {new_id}: contact.phone_encrypted 1, "
        "phone_verification.phone_encrypted 0, outbox.secret_encrypted 1"
    ) in result.stdout
    assert f"contact.phone_encrypted: 1 under {new_id} (current)" in result.stdout
    assert "Nothing is stored under an old key: the previous keys can be removed" in result.stdout
    assert "7400123410" not in result.stdout + result.stderr

    again = consentbot(rotated, "keys", "rotate")
    assert again.returncode == 0, again.stderr
    assert "contact.phone_encrypted 0, phone_verification.phone_encrypted 0, outbox.secret_encrypted 0" in again.stdout

    done = consentbot(settings.with_(secret_key=new), "keys", "status")
    assert "Everything is under the current key." in done.stdout
    refused = consentbot(settings.with_(secret_key=new), "keys", "rotate", "--batch-size", "0")
    assert refused.returncode == 2
    assert "--batch-size: must be at least 1" in refused.stderr


def test_content_check(settings: Settings, tmp_path: Path) -> None:
    content = tmp_path / "content"
    cover_everything(study_copy(content))
    good = consentbot(settings.with_(content_dir=content), "content", "check")
    assert good.returncode == 0, good.stdout
    assert f"{STUDY}: 0 errors, " in good.stdout
    (content / "studies" / STUDY / "ur.yaml").write_text("language: ur\n", encoding="utf-8")
    result = consentbot(settings.with_(content_dir=content), "content", "check")
    assert result.returncode == 1
    assert f"error {content / 'studies' / STUDY / 'ur.yaml'}: status: must be one of draft, reviewed" in result.stdout


def test_bad_settings_are_named(settings: Settings) -> None:
    env = env_for(settings) | {"CONSENTBOT_SMS_GATEWAY": "twilio"}
    result = subprocess.run(
        [sys.executable, "-m", "consentbot", "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "CONSENTBOT_TWILIO_ACCOUNT_SID is required with the twilio gateway" in result.stderr


def read_until(stream: object, needle: str, deadline: float) -> str:
    seen = ""
    while needle not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} never appeared in:\n{seen}")
        line = stream.readline()  # type: ignore[attr-defined]
        if not line:
            raise AssertionError(f"stream closed before {needle!r}:\n{seen}")
        seen += line
    return seen


def test_newcomer_completes_the_journey_with_serve_demo_and_chat(tmp_path: Path) -> None:
    """The README's first command, then `consentbot chat`, all the way to WITHDRAW."""
    port = free_port()
    # Without quiet hours: the reminder would wait for morning when the suite runs at night.
    content = awake_copy(tmp_path / "content")
    env = env_for(Settings(data_dir=tmp_path / "var", content_dir=content, locales_dir=ROOT / "locales"))
    env.pop("CONSENTBOT_DATABASE_URL")
    env.pop("CONSENTBOT_SECRET_KEY")
    env |= {"CONSENTBOT_PORT": str(port), "CONSENTBOT_DEMO_COOLING_OFF": "PT3S", "CONSENTBOT_LOG_LEVEL": "INFO"}
    with subprocess.Popen(
        [sys.executable, "-m", "consentbot", "serve", "--demo"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as server:
        try:
            read_until(server.stdout, "service.started", time.monotonic() + 60)
            assert (tmp_path / "var" / "secret.key").exists()
            with subprocess.Popen(
                [sys.executable, "-m", "consentbot", "chat", "--url", f"http://127.0.0.1:{port}"],
                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            ) as chat:
                try:
                    walk_the_journey(chat)
                finally:
                    chat.kill()
        finally:
            server.terminate()


def walk_the_journey(chat: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90

    def say(text: str, expect: str) -> str:
        assert chat.stdin is not None
        chat.stdin.write(text + "\n")
        chat.stdin.flush()
        return read_until(chat.stdout, expect, deadline)

    read_until(chat.stdout, "Type a message", deadline)
    say("JOINTS", "Reply MORE to read more")
    say("MORE", "1. Who we are and why we wrote")
    say("YES", "Question 1 of 5")
    for answer, expect in [("YES", "Question 2"), ("NO", "Question 3"), ("YES", "Question 4"),
                           ("NO", "Question 5"), ("YES", "do not count yet")]:
        say(answer, expect)
    say("CONFIRM", "Not yet")
    read_until(chat.stdout, "Your time to think is over", deadline)  # the reminder arrives by itself
    say("CONFIRM", "These choices now count")
    say("WITHDRAW", "You have left")


@SQLITE_ONLY  # the refusal comes before any connection
def test_serve_refuses_the_console_gateway_off_this_machine(settings: Settings, tmp_path: Path) -> None:
    env = env_for(settings.with_(database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"))
    env["CONSENTBOT_SMS_GATEWAY"] = "console"
    result = subprocess.run(
        [sys.executable, "-m", "consentbot", "serve", "--host", "0.0.0.0"],  # noqa: S104
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert "the console gateway only listens on this machine" in result.stderr
    assert "not on '0.0.0.0'" in result.stderr
    env["CONSENTBOT_HOST"] = "192.0.2.10"
    result = subprocess.run(
        [sys.executable, "-m", "consentbot", "serve"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert "not on '192.0.2.10'" in result.stderr


@SQLITE_ONLY  # the refusal comes before any connection
def test_serve_refuses_the_console_gateway_with_postgresql(settings: Settings) -> None:
    env = env_for(settings.with_(database_url="postgresql+asyncpg://consentbot@db.internal/consentbot"))
    env["CONSENTBOT_SMS_GATEWAY"] = "console"
    result = subprocess.run(
        [sys.executable, "-m", "consentbot", "serve"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert "never with PostgreSQL" in result.stderr


@SQLITE_ONLY  # the refusal comes before any connection
def test_serve_refuses_kannel_without_its_inbound_token(settings: Settings) -> None:
    env = env_for(settings) | {
        "CONSENTBOT_SMS_GATEWAY": "kannel",
        "CONSENTBOT_KANNEL_USERNAME": "bot",
        "CONSENTBOT_KANNEL_PASSWORD": "pw",
        "CONSENTBOT_KANNEL_INBOUND_TOKEN": "too-short",
    }
    result = subprocess.run(
        [sys.executable, "-m", "consentbot", "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "CONSENTBOT_KANNEL_INBOUND_TOKEN must be set to at least 24 characters" in result.stderr
