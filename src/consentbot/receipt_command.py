"""``consentbot receipt verify FILE``: check a signed consent receipt (docs/receipts.md).

The key is the service's audit key (CONSENTBOT_AUDIT_SIGNING_KEY or the data folder's),
or ``--public-key``: the base64 that ``consentbot audit public-key`` prints, or a file
holding it, to check a receipt with nothing of the service at hand. Exit 0 when the
receipt is intact and signed by that key, 1 otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from consentbot.domain.checkpoint import CheckpointError, decode_public_key
from consentbot.domain.receipt import ReceiptError, key_id, verify_receipt
from consentbot.settings import Settings
from consentbot.store.signing_key import existing_signing_key


class _Refused(Exception):
    """Why the receipt cannot be checked or trusted."""


def _trusted_key(settings: Settings, public_key: str | None) -> Ed25519PublicKey:
    if public_key is None:
        key = existing_signing_key(settings.audit_signing_key, settings.data_dir)
        if key is None:
            raise _Refused(
                "no key to check the receipt against: set CONSENTBOT_AUDIT_SIGNING_KEY "
                "or give --public-key (what consentbot audit public-key printed)"
            )
        return key.public_key()
    given = Path(public_key)
    try:
        text = given.read_text(encoding="ascii") if given.is_file() else public_key
    except (OSError, UnicodeDecodeError) as error:
        raise _Refused(f"--public-key: cannot read {given}: {error}") from error
    try:
        return decode_public_key(text)
    except CheckpointError as error:
        raise _Refused(f"--public-key: {error}") from error


def _read(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise _Refused(f"cannot read the receipt {path}: {error}") from error
    except json.JSONDecodeError as error:
        raise _Refused(f"receipt {path}: not JSON: {error}") from error


def receipt_verify(settings: Settings, path: Path, public_key: str | None) -> int:
    """Check ``path`` and say what it records; 0 if it is intact and ours, else 1."""
    try:
        trusted = _trusted_key(settings, public_key)
        document = _read(path)
        try:
            receipt = verify_receipt(document, trusted)
        except ReceiptError as error:
            raise _Refused(f"receipt {path}: NOT VALID: {error}") from error
    except _Refused as refused:
        print(f"consentbot: {refused}", file=sys.stderr)
        return 1
    header, parties = receipt["header"], receipt["parties"]
    services = receipt["processing"]["services"]
    changed = [
        f"{p['purpose']}={p['status']}" for s in services for p in s["purposes"] if p.get("changed")
    ]
    print(
        f"receipt {header['consentReceiptID']} is valid: signed by {key_id(trusted)}, "
        f"issued {header['issued']} for participant {parties['piiPrincipalId']} of "
        f"{', '.join(s['service'] for s in services)}; it records {', '.join(changed) or 'no change'}"
    )
    return 0
