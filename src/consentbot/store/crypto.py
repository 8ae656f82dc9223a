"""Phone numbers at rest: AES-GCM encrypted, and found through a keyed hash.

Both keys are derived from CONSENTBOT_SECRET_KEY with HKDF, so one secret is
enough to configure and rotating it is one decision (re-encryption is a migration).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12
MIN_SECRET_LENGTH = 32


class SecretKeyError(ValueError):
    """The secret key is missing, too short or cannot decrypt stored data."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"consentbot", info=purpose).derive(
        secret.encode("utf-8")
    )


class PhoneVault:
    """Encrypts, decrypts and hashes E.164 phone numbers."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise SecretKeyError(
                f"CONSENTBOT_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
            )
        self._aead = AESGCM(_derive(secret, b"phone-encryption"))
        self._hash_key = _derive(secret, b"phone-lookup")

    def lookup_hash(self, e164: str) -> str:
        """The keyed hash used to find a number without decrypting every row."""
        return hmac.new(self._hash_key, e164.encode("ascii"), hashlib.sha256).hexdigest()

    def encrypt(self, e164: str) -> str:
        """Encrypt with a fresh nonce; the number's hash is bound as associated data."""
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, e164.encode("ascii"), self.lookup_hash(e164).encode())
        return base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, lookup_hash: str) -> str:
        """Decrypt a stored number; fails if it was moved to another row or the key changed."""
        raw = base64.b64decode(token)
        try:
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], lookup_hash.encode())
        except InvalidTag as error:
            raise SecretKeyError("stored phone number cannot be decrypted with this key") from error
        return plain.decode("ascii")


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
