"""The hash chain that makes each participant's consent ledger tamper-evident.

Each event's hash covers its own fields and the previous event's hash, so
altering, removing or reordering an event breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime

GENESIS = "0" * 64
"""The ``prev_hash`` of a participant's first event."""


def canonical(fields: Mapping[str, object]) -> bytes:
    """A stable byte form: sorted keys, no spaces, datetimes as UTC ISO 8601."""

    def normalise(value: object) -> object:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value.astimezone(UTC).isoformat(timespec="microseconds")
        return value

    return json.dumps(
        {key: normalise(value) for key, value in fields.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def event_hash(prev_hash: str, fields: Mapping[str, object]) -> str:
    """SHA-256 over the previous hash and the event's canonical fields."""
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical(fields))
    return digest.hexdigest()
