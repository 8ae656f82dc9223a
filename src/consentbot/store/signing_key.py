"""The Ed25519 key that signs ledger checkpoints: configured, or kept in the data folder.

``CONSENTBOT_AUDIT_SIGNING_KEY`` holds the base64 of the raw 32-byte private key.
Without it, a key is generated into ``<data_dir>/audit-signing.key`` (same encoding,
mode 0600) the first time one is needed.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_FILE = "audit-signing.key"


class SigningKeyError(ValueError):
    """The signing key is malformed; the message never contains the key."""


def decode_private_key(text: str, source: str) -> Ed25519PrivateKey:
    """The key from its base64 form; ``source`` names where it came from in errors."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except binascii.Error as error:
        raise SigningKeyError(f"{source} is not base64") from error
    if len(raw) != 32:
        raise SigningKeyError(
            f"{source} must be the base64 of a raw 32-byte Ed25519 private key, not {len(raw)} bytes"
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def encode_private_key(key: Ed25519PrivateKey) -> str:
    """Base64 of the raw 32-byte private key: the form both the setting and the file use."""
    return base64.b64encode(key.private_bytes_raw()).decode("ascii")


def existing_signing_key(configured: str | None, data_dir: Path) -> Ed25519PrivateKey | None:
    """The configured key, else the data folder's, else None."""
    if configured:
        return decode_private_key(configured, "CONSENTBOT_AUDIT_SIGNING_KEY")
    path = data_dir / KEY_FILE
    if path.exists():
        return decode_private_key(path.read_text(encoding="ascii"), str(path))
    return None


def signing_key(configured: str | None, data_dir: Path) -> Ed25519PrivateKey:
    """The configured key, else the data folder's, generated there (mode 0600) if need be."""
    key = existing_signing_key(configured, data_dir)
    if key is not None:
        return key
    key = Ed25519PrivateKey.generate()
    path = data_dir / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(encode_private_key(key) + "\n")
    return key
