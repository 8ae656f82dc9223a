"""The vault: key ids, previous keys, ciphertexts from before key ids, tampering, unknown keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from consentbot.runtime import open_vault
from consentbot.settings import Settings
from consentbot.store.crypto import PhoneVault, SecretKeyError, key_id_of, stored_key_id

OLD = "old-secret-key-that-is-long-enough-0123456789"
NEW = "new-secret-key-that-is-long-enough-9876543210"
NUMBER = "+447400123456"
OTHER = "+447400123457"


def legacy_ciphertext(secret: str, e164: str) -> str:
    """A number as versions before key ids stored it: base64(nonce + AES-GCM), no prefix."""

    def derive(purpose: bytes) -> bytes:
        kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"consentbot", info=purpose)
        return kdf.derive(secret.encode())

    lookup = hmac.new(derive(b"phone-lookup"), e164.encode(), hashlib.sha256).hexdigest()
    nonce = os.urandom(12)
    sealed = AESGCM(derive(b"phone-encryption")).encrypt(nonce, e164.encode(), lookup.encode())
    return base64.b64encode(nonce + sealed).decode()


def test_key_ids_name_keys_without_revealing_them() -> None:
    vault = PhoneVault(NEW)
    token = vault.encrypt(NUMBER)
    assert vault.current_key_id == key_id_of(NEW) != key_id_of(OLD)
    assert len(vault.current_key_id) == 12
    assert set(vault.current_key_id) <= set("0123456789abcdef")
    assert vault.current_key_id not in NEW
    assert token.startswith(f"v2.{vault.current_key_id}.")
    assert stored_key_id(token) == vault.current_key_id
    assert vault.is_current(token)
    assert NUMBER[1:] not in token
    assert vault.encrypt(NUMBER) != token  # a fresh nonce each time
    assert vault.decrypt(token, vault.lookup_hash(NUMBER)) == NUMBER


def test_previous_keys_still_read_but_everything_new_uses_the_current_key() -> None:
    old_token = PhoneVault(OLD).encrypt(NUMBER)
    old_hash = PhoneVault(OLD).lookup_hash(NUMBER)
    vault = PhoneVault(NEW, [OLD])
    assert vault.key_ids == (key_id_of(NEW), key_id_of(OLD))
    assert vault.decrypt(old_token, old_hash) == NUMBER
    assert not vault.is_current(old_token)
    assert vault.lookup_hash(NUMBER) == PhoneVault(NEW).lookup_hash(NUMBER) != old_hash
    assert vault.lookup_hashes(NUMBER) == [vault.lookup_hash(NUMBER), old_hash]
    assert stored_key_id(vault.encrypt(NUMBER)) == key_id_of(NEW)
    # The current key given again as a previous one changes nothing.
    assert PhoneVault(NEW, [NEW, OLD]).key_ids == vault.key_ids


def test_ciphertexts_from_before_key_ids_decrypt_with_any_known_key() -> None:
    legacy = legacy_ciphertext(OLD, NUMBER)
    old_hash = PhoneVault(OLD).lookup_hash(NUMBER)
    assert stored_key_id(legacy) is None
    assert PhoneVault(OLD).decrypt(legacy, old_hash) == NUMBER
    assert PhoneVault(NEW, [OLD]).decrypt(legacy, old_hash) == NUMBER
    assert not PhoneVault(OLD).is_current(legacy)  # rotation rewrites it with a key id
    with pytest.raises(SecretKeyError, match="written before key ids"):
        PhoneVault(NEW).decrypt(legacy, old_hash)


def test_unknown_key_id_says_which_key_is_missing() -> None:
    token = PhoneVault(OLD).encrypt(NUMBER)
    with pytest.raises(SecretKeyError) as caught:
        PhoneVault(NEW).decrypt(token, PhoneVault(OLD).lookup_hash(NUMBER))
    message = str(caught.value)
    assert f"key {key_id_of(OLD)}, which is not configured" in message
    assert "CONSENTBOT_PREVIOUS_SECRET_KEYS" in message
    assert OLD not in message


def test_tampered_or_moved_ciphertexts_are_refused() -> None:
    vault = PhoneVault(NEW, [OLD])
    token = vault.encrypt(NUMBER)
    with pytest.raises(SecretKeyError, match="altered or moved"):
        vault.decrypt(token, vault.lookup_hash(OTHER))  # moved to another number's row
    prefix, raw = token.rsplit(".", 1)
    flipped = bytearray(base64.b64decode(raw))
    flipped[-1] ^= 1
    with pytest.raises(SecretKeyError, match="altered or moved"):
        vault.decrypt(f"{prefix}.{base64.b64encode(bytes(flipped)).decode()}", vault.lookup_hash(NUMBER))
    # A ciphertext relabelled with another known key id does not open either.
    relabelled = token.replace(key_id_of(NEW), key_id_of(OLD), 1)
    with pytest.raises(SecretKeyError, match="altered or moved"):
        vault.decrypt(relabelled, vault.lookup_hash(NUMBER))
    for malformed in ("v2.abc.AAAA", f"v2.{key_id_of(NEW)}.not base64!", f"v2.{key_id_of(NEW)}.AAAA"):
        with pytest.raises(SecretKeyError):
            vault.decrypt(malformed, vault.lookup_hash(NUMBER))


def test_outbox_secrets_are_bound_to_their_message() -> None:
    vault = PhoneVault(NEW, [OLD])
    sealed = vault.seal_secret("https://consent.example.org/i/abc", "ref-1")
    assert "abc" not in sealed
    assert stored_key_id(sealed) == key_id_of(NEW)
    assert vault.open_secret(sealed, "ref-1") == "https://consent.example.org/i/abc"
    assert PhoneVault(OLD, [NEW]).open_secret(sealed, "ref-1") == "https://consent.example.org/i/abc"
    with pytest.raises(SecretKeyError, match="moved to another"):
        vault.open_secret(sealed, "ref-2")
    # A phone ciphertext is not an outbox secret, even under the same key and binding.
    phone = vault.encrypt(NUMBER)
    with pytest.raises(SecretKeyError):
        vault.open_secret(phone, vault.lookup_hash(NUMBER))
    with pytest.raises(SecretKeyError, match="not configured"):
        PhoneVault(OLD).open_secret(sealed, "ref-1")


def test_code_hashes_are_keyed() -> None:
    vault = PhoneVault(NEW, [OLD])
    unkeyed = hashlib.sha256(b"salt:123456").hexdigest()
    assert vault.code_hash("123456", "salt") != unkeyed
    assert vault.code_hashes("123456", "salt") == [
        PhoneVault(NEW).code_hash("123456", "salt"),
        PhoneVault(OLD).code_hash("123456", "salt"),
    ]
    assert vault.code_hash("123456", "salt") != vault.code_hash("123456", "other salt")


def test_short_keys_are_refused_without_showing_them() -> None:
    with pytest.raises(SecretKeyError, match="at least 32"):
        PhoneVault("short")
    with pytest.raises(SecretKeyError, match="previous secret key number 2") as caught:
        PhoneVault(NEW, [OLD, "too-short-key"])
    assert "too-short-key" not in str(caught.value)


def test_previous_keys_come_from_the_environment_or_beside_the_generated_key(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "CONSENTBOT_SECRET_KEY": NEW,
        "CONSENTBOT_PREVIOUS_SECRET_KEYS": f" {OLD} ,, ",
        "CONSENTBOT_DATA_DIR": str(tmp_path),
    })
    assert settings.previous_secret_keys == (OLD,)
    assert open_vault(settings).key_ids == (key_id_of(NEW), key_id_of(OLD))
    # The embedded default: var/secret.key is current, var/secret.previous holds older keys.
    (tmp_path / "secret.key").write_text(NEW + "\n")
    (tmp_path / "secret.previous").write_text(f"# retired 2026-12-01\n{OLD}\n\n")
    embedded = Settings.from_env({"CONSENTBOT_DATA_DIR": str(tmp_path)})
    assert open_vault(embedded).key_ids == (key_id_of(NEW), key_id_of(OLD))
