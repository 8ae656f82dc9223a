"""``consentbot receipt verify FILE``: with the service's key, or fully offline with the
public key that ``consentbot audit public-key`` prints."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient
from tests.receipts.support import Texter, reference_in
from tests.receipts.test_sms import confirmed
from tests.support.cli import consentbot
from tests.support.databases import SqliteTemplate
from tests.support.twilio_fake import FakeTwilio


@pytest.fixture
def database_url(sqlite_template: SqliteTemplate, tmp_path: Path) -> str:
    """SQLite only: checking a receipt reads a file and a key, never the database."""
    return sqlite_template.fresh(tmp_path)


async def test_verify_says_valid_or_not_valid_with_exit_codes(
    client: AppClient,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
    settings: Settings,
    tmp_path: Path,
) -> None:
    person = Texter(client, fake_twilio, clock, "+447400900831", "P-0831")
    reference = reference_in(await confirmed(person, "en"))
    [listed] = await person.receipts()
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps(listed["receipt"], indent=2), encoding="utf-8")

    done = consentbot(settings, "receipt", "verify", str(receipt))
    assert done.returncode == 0, done.stderr
    assert f"receipt {reference} is valid" in done.stdout
    assert "participant P-0831" in done.stdout
    assert "records-research=active" in done.stdout

    tampered = tmp_path / "tampered.json"
    changed = json.loads(receipt.read_text(encoding="utf-8"))
    changed["processing"]["services"][0]["purposes"][2]["status"] = "withdrawn"
    tampered.write_text(json.dumps(changed), encoding="utf-8")
    done = consentbot(settings, "receipt", "verify", str(tampered))
    assert done.returncode == 1
    assert "NOT VALID" in done.stderr
    assert "changed after it was signed" in done.stderr

    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    done = consentbot(settings, "receipt", "verify", str(garbage))
    assert (done.returncode, "not JSON" in done.stderr) == (1, True)


async def test_verify_offline_with_the_published_public_key(
    client: AppClient,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
    settings: Settings,
    tmp_path: Path,
) -> None:
    person = Texter(client, fake_twilio, clock, "+447400900832", "P-0832")
    await confirmed(person, "en")
    [listed] = await person.receipts()
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps(listed["receipt"]), encoding="utf-8")
    published = consentbot(settings, "audit", "public-key")
    assert published.returncode == 0, published.stderr
    public = published.stdout.strip()

    # Somewhere else: no database, no key of the service's, only the published key.
    elsewhere = settings.with_(
        data_dir=tmp_path / "elsewhere", database_url=f"sqlite+aiosqlite:///{tmp_path}/none.db"
    )
    done = consentbot(elsewhere, "receipt", "verify", str(receipt))
    assert done.returncode == 1
    assert "no key to check the receipt against" in done.stderr
    done = consentbot(elsewhere, "receipt", "verify", str(receipt), "--public-key", public)
    assert done.returncode == 0, done.stderr
    key_file = tmp_path / "audit.pub"
    key_file.write_text(public + "\n", encoding="ascii")
    done = consentbot(elsewhere, "receipt", "verify", str(receipt), "--public-key", str(key_file))
    assert done.returncode == 0, done.stderr

    stranger = base64.b64encode(bytes(range(1, 33))).decode("ascii")
    done = consentbot(elsewhere, "receipt", "verify", str(receipt), "--public-key", stranger)
    assert done.returncode == 1
    assert "not by the trusted key" in done.stderr
    done = consentbot(elsewhere, "receipt", "verify", str(receipt), "--public-key", "nonsense")
    assert done.returncode == 1
    assert "--public-key" in done.stderr
