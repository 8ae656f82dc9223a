"""Pure: signatures the Standard Webhooks verifier accepts, the payload, the retry schedule, URLs."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from consentbot.domain.webhooks import (
    FIRST_RETRY,
    GIVE_UP_AFTER,
    LONGEST_WAIT,
    ConsentChange,
    WebhookSecretError,
    next_attempt,
    payload,
    retry_delay,
    secret_from,
    secret_key,
    signed_headers,
    url_problem,
)

CHANGE = ConsentChange(
    study="joint-health-records",
    participant="P-1",
    purpose="commercial-partner",
    from_status="active",
    to_status="withdrawn",
    at=datetime(2026, 12, 1, 10, 0, 7, 250_000, tzinfo=UTC),
    content_version=3,
    event_hash="ab" * 32,
)


def test_the_standard_webhooks_verifier_accepts_our_signature() -> None:
    secret = secret_from(secrets.token_bytes(24))
    body = payload(CHANGE)
    # The verifier refuses timestamps five minutes away from its own clock: sign "now".
    headers = signed_headers(secret, "msg_1", datetime.now(UTC), body)
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("withdrawn", "active"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_from(secrets.token_bytes(24))).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers | {"webhook-id": "msg_2"})


def test_secrets_are_whsec_and_base64_of_the_key() -> None:
    raw = secrets.token_bytes(24)
    secret = secret_from(raw)
    assert secret.startswith("whsec_")
    assert base64.b64decode(secret.removeprefix("whsec_")) == raw
    assert secret_key(secret) == raw
    with pytest.raises(WebhookSecretError):
        secret_key("whsec_not base64!")
    with pytest.raises(WebhookSecretError):
        secret_key("whsec_")


def test_the_body_has_exactly_the_documented_fields() -> None:
    assert json.loads(payload(CHANGE)) == {
        "type": "consent.changed",
        "study": "joint-health-records",
        "participant": "P-1",
        "purpose": "commercial-partner",
        "from": "active",
        "to": "withdrawn",
        "at": "2026-12-01T10:00:07Z",
        "content_version": 3,
        "event_hash": "ab" * 32,
    }
    assert list(json.loads(payload(CHANGE))) == [
        "type", "study", "participant", "purpose", "from", "to", "at", "content_version", "event_hash",
    ]


def test_the_backoff_doubles_from_five_seconds_to_an_hour() -> None:
    schedule = [retry_delay(n, 0.0) for n in range(1, 14)]
    assert schedule[:5] == [timedelta(seconds=s) for s in (5, 10, 20, 40, 80)]
    assert schedule[-3:] == [LONGEST_WAIT] * 3
    assert schedule == sorted(schedule)


@given(attempts=st.integers(min_value=1, max_value=10_000), jitter=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_jitter_takes_at_most_half_the_wait_away(attempts: int, jitter: float) -> None:
    full = retry_delay(attempts, 0.0)
    delay = retry_delay(attempts, jitter)
    assert full / 2 <= delay <= full
    assert FIRST_RETRY / 2 <= delay <= LONGEST_WAIT


@given(
    attempts=st.integers(min_value=1, max_value=200),
    elapsed=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4)),
    jitter=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_retries_stop_at_three_days_and_the_last_one_is_made_then(
    attempts: int, elapsed: timedelta, jitter: float
) -> None:
    created = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    failed_at = created + elapsed
    retry = next_attempt(created, failed_at, attempts, jitter)
    if elapsed >= GIVE_UP_AFTER:
        assert retry is None
    else:
        assert retry is not None
        assert failed_at < retry <= created + GIVE_UP_AFTER


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://pipeline.example.org/hooks", None),
        ("http://127.0.0.1:8000/hooks", None),
        ("http://localhost/hooks", None),
        ("http://pipeline.example.org/hooks", "must use https://"),
        ("ftp://pipeline.example.org/", "must start with https://"),
        ("pipeline.example.org/hooks", "must start with https://"),
        ("https://user:pw@pipeline.example.org/", "user name or password"),
        ("https://[::1/", "not a URL"),
    ],
)
def test_only_https_or_this_machine(url: str, problem: str | None) -> None:
    found = url_problem(url)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
