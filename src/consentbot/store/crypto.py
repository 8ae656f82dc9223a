"""Secrets at rest: phone numbers and outbox secrets AES-GCM encrypted, numbers found by keyed hash.

Every key is derived with HKDF from a configured secret (CONSENTBOT_SECRET_KEY), so one
secret is enough to configure. The vault knows a *current* secret, used for everything it
writes, and *previous* secrets it still reads with, so the secret can be rotated (see
docs/keys.md):

- a ciphertext names the key it was made with: ``v2.<key id>.<base64(nonce + sealed)>``,
  the key id being derived from the secret with HKDF (it reveals nothing about the secret);
  ciphertexts written before key ids existed (bare base64) are tried with every known key;
- a number is looked up by its keyed hash under every known key (current first), and
  ``consentbot keys rotate`` rewrites both under the current key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12
MIN_SECRET_LENGTH = 32
CIPHERTEXT_VERSION = "v2"
KEY_ID_LENGTH = 12
"""Hex characters in a key id (48 bits: enough to tell a handful of keys apart)."""


_Use = Literal["phone", "outbox"]
"""Which of a key's two encryption keys: phone numbers or outbox secrets."""


class SecretKeyError(ValueError):
    """A secret key is missing or too short, or stored data cannot be decrypted with the keys."""


def _derive(secret: str, purpose: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"consentbot", info=purpose).derive(
        secret.encode("utf-8")
    )


def key_id_of(secret: str) -> str:
    """The public name of a secret: stored in every ciphertext made with it."""
    return _derive(secret, b"key-id", KEY_ID_LENGTH // 2).hex()


@dataclass(frozen=True, slots=True)
class _Key:
    """Everything derived from one configured secret."""

    id: str
    phone: AESGCM
    outbox: AESGCM
    lookup: bytes
    code: bytes

    @classmethod
    def derive(cls, secret: str) -> _Key:
        return cls(
            id=key_id_of(secret),
            phone=AESGCM(_derive(secret, b"phone-encryption")),
            outbox=AESGCM(_derive(secret, b"outbox-secret")),
            lookup=_derive(secret, b"phone-lookup"),
            code=_derive(secret, b"verification-code"),
        )


class PhoneVault:
    """Encrypts, decrypts and hashes phone numbers, and seals the secrets of outbox messages.

    ``secret`` is the current key; ``previous`` are older keys still accepted for reading.
    """

    def __init__(self, secret: str, previous: Sequence[str] = ()) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise SecretKeyError(
                f"CONSENTBOT_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
            )
        for number, old in enumerate(previous, start=1):
            if len(old) < MIN_SECRET_LENGTH:
                raise SecretKeyError(
                    f"previous secret key number {number} must be at least "
                    f"{MIN_SECRET_LENGTH} characters"
                )
        keys: dict[str, _Key] = {}
        for each in (secret, *previous):
            key = _Key.derive(each)
            keys.setdefault(key.id, key)  # the current key listed again as previous is harmless
        self._keys = keys
        self._current = next(iter(keys.values()))

    @property
    def current_key_id(self) -> str:
        """The id of the key everything new is written with."""
        return self._current.id

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every known key id, current first."""
        return tuple(self._keys)

    @property
    def current_prefix(self) -> str:
        """How every ciphertext made with the current key begins."""
        return f"{CIPHERTEXT_VERSION}.{self._current.id}."

    def is_current(self, token: str) -> bool:
        """Whether ``token`` was made with the current key."""
        return token.startswith(self.current_prefix)

    def lookup_hash(self, e164: str) -> str:
        """The keyed hash (current key) used to find a number without decrypting every row."""
        return _lookup(self._current, e164)

    def lookup_hashes(self, e164: str) -> list[str]:
        """The number's hash under every known key, current first: a stored row has one of them."""
        return [_lookup(key, e164) for key in self._keys.values()]

    def encrypt(self, e164: str) -> str:
        """Encrypt with the current key and a fresh nonce, binding the number's hash as associated data."""
        return self._seal(self._current, "phone", e164, self.lookup_hash(e164).encode())

    def decrypt(self, token: str, lookup_hash: str) -> str:
        """Decrypt a stored number; fails if it was moved to another row or its key is unknown."""
        return self._open("phone", token, lookup_hash.encode(), "stored phone number")

    def seal_secret(self, secret: str, reference: str) -> str:
        """Encrypt an outbox message's secret, bound to the message's ``reference``."""
        return self._seal(self._current, "outbox", secret, _outbox_aad(reference))

    def open_secret(self, token: str, reference: str) -> str:
        """Decrypt an outbox secret; fails if it was moved to another message."""
        return self._open("outbox", token, _outbox_aad(reference), "outbox secret")

    def code_hash(self, code: str, salt: str) -> str:
        """A one-time code's keyed hash (current key): six digits are too few to hash unkeyed."""
        return _code_hash(self._current, code, salt)

    def code_hashes(self, code: str, salt: str) -> list[str]:
        """The code's hash under every known key (a code may predate the current key)."""
        return [_code_hash(key, code, salt) for key in self._keys.values()]

    def _seal(self, key: _Key, use: _Use, plain: str, aad: bytes) -> str:
        nonce = os.urandom(_NONCE)
        sealed = _aead(key, use).encrypt(nonce, plain.encode("utf-8"), aad)
        raw = base64.b64encode(nonce + sealed).decode("ascii")
        return f"{CIPHERTEXT_VERSION}.{key.id}.{raw}"

    def _open(self, use: _Use, token: str, aad: bytes, what: str) -> str:
        key_id = stored_key_id(token)
        if key_id is None:
            # Written before key ids: any known key may have made it.
            raw = _decode(token, what)
            for key in self._keys.values():
                plain = _try_open(key, use, raw, aad)
                if plain is not None:
                    return plain
            raise SecretKeyError(
                f"{what} (written before key ids) cannot be decrypted with any configured key"
            )
        found = self._keys.get(key_id)
        if found is None:
            raise SecretKeyError(
                f"{what} was encrypted with key {key_id}, which is not configured: "
                "add that key to CONSENTBOT_PREVIOUS_SECRET_KEYS (or var/secret.previous)"
            )
        raw = _decode(token.split(".", 2)[2], what)
        plain = _try_open(found, use, raw, aad)
        if plain is None:
            raise SecretKeyError(
                f"{what} cannot be decrypted with key {key_id}: "
                "it was altered or moved to another row"
            )
        return plain


def stored_key_id(token: str) -> str | None:
    """The key id a ciphertext names; None for one written before key ids."""
    if not token.startswith(f"{CIPHERTEXT_VERSION}."):
        return None
    parts = token.split(".", 2)
    if len(parts) != 3 or len(parts[1]) != KEY_ID_LENGTH:
        raise SecretKeyError("stored ciphertext has a malformed key id")
    return parts[1]


def _lookup(key: _Key, e164: str) -> str:
    return hmac.new(key.lookup, e164.encode("ascii"), hashlib.sha256).hexdigest()


def _code_hash(key: _Key, code: str, salt: str) -> str:
    return hmac.new(key.code, f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def _outbox_aad(reference: str) -> bytes:
    return f"outbox:{reference}".encode()


def _aead(key: _Key, use: _Use) -> AESGCM:
    return key.phone if use == "phone" else key.outbox


def _decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise SecretKeyError(f"{what} is not valid base64") from error
    if len(raw) <= _NONCE:
        raise SecretKeyError(f"{what} is too short to be a ciphertext")
    return raw


def _try_open(key: _Key, use: _Use, raw: bytes, aad: bytes) -> str | None:
    try:
        return _aead(key, use).decrypt(raw[:_NONCE], raw[_NONCE:], aad).decode("utf-8")
    except InvalidTag:
        return None


def load_or_create_secret(path: Path) -> str:
    """The embedded default's key: read it from the data folder, or create it (mode 0600)."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return secret


def load_previous_secrets(path: Path) -> list[str]:
    """The embedded default's older keys: one per line (blank lines and ``#`` comments skipped)."""
    if not path.exists():
        return []
    lines = (line.strip() for line in path.read_text(encoding="ascii").splitlines())
    return [line for line in lines if line and not line.startswith("#")]
