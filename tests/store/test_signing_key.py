"""The checkpoint signing key: from CONSENTBOT_AUDIT_SIGNING_KEY, or generated once into the data folder."""

from __future__ import annotations

import base64
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consentbot.settings import Settings, SettingsError
from consentbot.store.signing_key import (
    KEY_FILE,
    encode_private_key,
    existing_signing_key,
    signing_key,
)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def test_generated_once_into_the_data_folder_readable_only_by_the_service(tmp_path: Path) -> None:
    assert existing_signing_key(None, tmp_path) is None
    first = signing_key(None, tmp_path)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_text())) == 32
    again = existing_signing_key(None, tmp_path)
    assert again is not None
    assert again.private_bytes_raw() == first.private_bytes_raw()


def test_the_configured_key_wins_over_the_data_folder(tmp_path: Path) -> None:
    signing_key(None, tmp_path)
    chosen = signing_key(encode_private_key(KEY), tmp_path)
    assert chosen.private_bytes_raw() == KEY.private_bytes_raw()


def test_settings_read_the_audit_variables() -> None:
    settings = Settings.from_env({
        "CONSENTBOT_AUDIT_SIGNING_KEY": encode_private_key(KEY),
        "CONSENTBOT_AUDIT_CHECKPOINT_DIR": "/srv/checkpoints",
        "CONSENTBOT_AUDIT_CHECKPOINT_EVERY": "PT6H",
    })
    settings.check()
    assert settings.audit_checkpoint_dir == Path("/srv/checkpoints")
    assert settings.audit_checkpoint_every == timedelta(hours=6)
    assert encode_private_key(KEY) not in repr(settings)
    defaults = Settings.from_env({})
    assert (defaults.audit_checkpoint_dir, defaults.audit_checkpoint_every) == (None, timedelta(days=1))


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"CONSENTBOT_AUDIT_SIGNING_KEY": "not base64!"}, "CONSENTBOT_AUDIT_SIGNING_KEY is not base64"),
        ({"CONSENTBOT_AUDIT_SIGNING_KEY": base64.b64encode(b"short").decode()},
         "CONSENTBOT_AUDIT_SIGNING_KEY must be the base64 of a raw 32-byte Ed25519 private key, not 5 bytes"),
        ({"CONSENTBOT_AUDIT_CHECKPOINT_EVERY": "P1M"}, "CONSENTBOT_AUDIT_CHECKPOINT_EVERY: 'P1M' is not"),
        ({"CONSENTBOT_AUDIT_CHECKPOINT_EVERY": "PT0S"}, "CONSENTBOT_AUDIT_CHECKPOINT_EVERY must be longer than zero"),
    ],
)
def test_bad_audit_settings_are_named(env: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env).check()
    assert problem in str(raised.value)
