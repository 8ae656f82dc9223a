"""Webhooks as the Standard Webhooks specification has them: payload, signature, retry schedule.

Pure: no I/O, no clock, no randomness (the caller passes the jitter). The receiver's view
of all this is in docs/webhooks.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of every secret, not a secret)
SECRET_BYTES = 24
"""Random bytes in a new signing secret (the specification asks for 24 to 64)."""

EVENT_TYPE = "consent.changed"
ERASED = "erased"
"""What ``to`` says on the events of an erasure (the ledger records them as ``withdrawn``
with the action ``erase``): stop using the data, and delete what you still can."""

GIVE_UP_AFTER = timedelta(days=3)
"""A delivery not accepted within this long of the change is marked failed."""
FIRST_RETRY = timedelta(seconds=5)
LONGEST_WAIT = timedelta(hours=1)
"""Backoff doubles from FIRST_RETRY up to this, then stays there."""

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class DeliveryStatus(StrEnum):
    """Where a delivery is. Values are stored in the database."""

    PENDING = "pending"
    """Not yet accepted by the receiver: waiting for its (next) attempt."""
    DELIVERED = "delivered"
    """The receiver answered 2xx."""
    FAILED = "failed"
    """Not accepted within GIVE_UP_AFTER: no more attempts."""
    CANCELLED = "cancelled"
    """The webhook was removed before it was delivered."""


class WebhookSecretError(ValueError):
    """A signing secret that is not ``whsec_`` + base64."""


def secret_from(raw: bytes) -> str:
    """The printable form of a signing secret: ``whsec_`` + base64 of its bytes."""
    return SECRET_PREFIX + base64.b64encode(raw).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key a secret stands for: its base64 part, decoded."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise WebhookSecretError("a webhook secret is whsec_ followed by base64") from error
    if not key:
        raise WebhookSecretError("a webhook secret may not be empty")
    return key


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed by the secret's bytes."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(secret: str, message_id: str, sent_at: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt sent at ``sent_at``."""
    timestamp = math.floor(sent_at.timestamp())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


@dataclass(frozen=True, slots=True)
class ConsentChange:
    """One ledger event as a receiver sees it: the study's reference, never a phone number."""

    study: str
    participant: str
    purpose: str
    from_status: str
    to_status: str
    at: datetime
    content_version: int
    event_hash: str


def iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def payload(change: ConsentChange) -> str:
    """The body sent, exactly (compact JSON, keys in the documented order)."""
    return json.dumps(
        {
            "type": EVENT_TYPE,
            "study": change.study,
            "participant": change.participant,
            "purpose": change.purpose,
            "from": change.from_status,
            "to": change.to_status,
            "at": iso_z(change.at),
            "content_version": change.content_version,
            "event_hash": change.event_hash,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def retry_delay(attempts: int, jitter: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (1 for the first).

    Doubles from FIRST_RETRY, capped at LONGEST_WAIT; ``jitter`` in [0, 1) takes up to half
    of it away, so receivers that came back up are not hit by every sender at once.
    """
    if attempts < 1:
        raise ValueError("attempts counts from 1")
    if not 0.0 <= jitter < 1.0:
        raise ValueError("jitter must be in [0, 1)")
    doubled: timedelta = FIRST_RETRY * (2 ** min(attempts - 1, 32))
    full = min(doubled, LONGEST_WAIT)
    return full * (1.0 - jitter / 2)


def next_attempt(
    created_at: datetime, failed_at: datetime, attempts: int, jitter: float
) -> datetime | None:
    """When to try again after a failed attempt, or None to give up.

    The last attempt is made at ``created_at + GIVE_UP_AFTER``; one failing then or later
    gives up.
    """
    deadline = created_at + GIVE_UP_AFTER
    if failed_at >= deadline:
        return None
    return min(failed_at + retry_delay(attempts, jitter), deadline)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive webhooks, or None. HTTPS only; plain HTTP only to this
    machine (a receiver under development or behind a local proxy)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "that is not a URL"
    if parts.scheme not in ("https", "http") or not host:
        return "the URL must start with https:// and name a host"
    if parts.username or parts.password:
        return "the URL must not hold a user name or password: the signature proves the sender"
    if parts.fragment:
        return "the URL must not have a #fragment"
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        return (
            "the URL must use https:// (plain http:// is only allowed to 127.0.0.1 or "
            "localhost): consent changes must not travel unencrypted"
        )
    return None
