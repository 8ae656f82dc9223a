"""``consentbot webhook add | list | remove | status`` as real processes, and an erasure's news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select
from standardwebhooks import Webhook as Verifier

from consentbot import keys
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.tables import Webhook
from tests.conftest import AppClient
from tests.support.cli import consentbot
from tests.support.databases import SQLITE_ONLY
from tests.support.journey import PURPOSES, STUDY, ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone
from tests.webhooks.support import Receiver


async def test_add_prints_the_secret_once_and_list_status_remove_never_show_it(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, receiver: tuple[Receiver, str]
) -> None:
    hooks, url = receiver
    assert "no webhooks yet" in consentbot(settings, "webhook", "list").stdout
    added = consentbot(settings, "webhook", "add", "--study", STUDY, "--url", url)
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    assert "not shown again" in added.stderr
    async with client.app[keys.DATABASE].read() as session:
        (stored,) = (await session.exec(select(Webhook))).all()
    assert secret not in stored.secret_encrypted
    assert secret.removeprefix("whsec_") not in stored.secret_encrypted

    # The service signs with the secret the command printed.
    research = await ResearchSystem.register(client)
    await research.invite("+447400900151", "C-1")
    phone = TwilioPhone(client, fake_twilio, "+447400900151")
    await phone.send("YES")
    await phone.send("YES")
    await client.app[keys.WEBHOOK_DELIVERIES].deliver_due()
    (got,) = hooks.received
    sent_at = datetime.fromtimestamp(int(got.headers["webhook-timestamp"]), UTC)
    assert got.headers["webhook-signature"] == Verifier(secret).sign(got.headers["webhook-id"], sent_at, got.body)

    listed = consentbot(settings, "webhook", "list")
    assert listed.returncode == 0, listed.stderr
    header, line = listed.stdout.strip().splitlines()
    assert header.split() == ["id", "study", "url", "added", "removed"]
    assert line.split()[:3] == ["1", STUDY, url]
    assert line.rstrip().endswith(" -")
    status = consentbot(settings, "webhook", "status", "--study", STUDY)
    assert status.returncode == 0, status.stderr
    header, line = status.stdout.strip().splitlines()
    assert header.split()[:6] == ["id", "study", "url", "delivered", "failed", "backlog"]
    assert line.split()[:6] == ["1", STUDY, url, "1", "0", "0"]
    await phone.send("YES")  # queued, not yet delivered: the backlog
    backlog = consentbot(settings, "webhook", "status")
    assert backlog.stdout.strip().splitlines()[1].split()[3:6] == ["1", "0", "1"]

    removed = consentbot(settings, "webhook", "remove", "1")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == f"webhook 1 ({url}) is removed; 1 waiting deliveries were cancelled"
    assert consentbot(settings, "webhook", "list").stdout.strip().splitlines()[1].rstrip()[-1] == "Z"
    for output in (listed, status, backlog, removed):
        assert secret not in output.stdout + output.stderr
        assert secret.removeprefix("whsec_") not in output.stdout + output.stderr


@SQLITE_ONLY
async def test_add_refuses_plain_http_elsewhere_and_unknown_studies(client: AppClient, settings: Settings) -> None:
    plain = consentbot(settings, "webhook", "add", "--study", STUDY, "--url", "http://pipeline.example.org/hook")
    assert plain.returncode == 1
    assert plain.stderr.strip() == (
        "consentbot: the URL must use https:// (plain http:// is only allowed to 127.0.0.1 or "
        "localhost): consent changes must not travel unencrypted"
    )
    unknown = consentbot(settings, "webhook", "add", "--study", "no-such-study", "--url", "https://x.example/h")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "consentbot: there is no study 'no-such-study'"
    missing = consentbot(settings, "webhook", "remove", "7")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "consentbot: there is no webhook 7"
    assert "no webhooks yet" in consentbot(settings, "webhook", "status").stdout


async def test_an_erasure_tells_the_receiver_every_purpose_is_erased(
    client: AppClient, settings: Settings, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    hooks, url = receiver
    await client.app[keys.WEBHOOKS].add(STUDY, url)
    research = await ResearchSystem.register(client)
    await research.invite("+447400900161", "E-1")
    erased = consentbot(settings, "participant", "erase", "--study", STUDY, "--reference", "E-1")
    assert erased.returncode == 0, erased.stderr
    # Written by the command's transaction (on the real clock); the service's loop finds
    # them on its next look.
    clock.now = datetime.now(UTC) + timedelta(minutes=1)
    await client.app[keys.WEBHOOK_DELIVERIES].deliver_due()
    payloads = hooks.payloads()
    assert sorted(p["purpose"] for p in payloads) == sorted(PURPOSES)
    assert {(p["type"], p["participant"], p["from"], p["to"]) for p in payloads} == {
        ("consent.changed", "E-1", "none", "erased")
    }
