"""Posting to an SMS provider's HTTP API: retry what is safe to retry, never send twice.

Shared by the Twilio and Notify gateways. A 429, a 5xx or a failure to connect is tried
again after a growing delay (or the ``Retry-After`` the answer asks for, in seconds); once
the request may have reached the provider, a timeout or a dropped connection raises
:class:`OutcomeUnknown` at once, since neither API has an idempotency key.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from consentbot.channels.form_encoding import form_body
from consentbot.channels.gateway import GatewayError, OutcomeUnknown

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the provider answered: status, body and the ``Retry-After`` header if any."""

    status: int
    body: bytes
    retry_after: str | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` tries in all, waiting ``base * 2**attempt`` seconds (at most ``most``)."""

    max_attempts: int = 4
    base: float = 0.5
    most: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after ``attempt`` (0-based) failed: what the answer asked, or backoff."""
        delay = _retry_after_seconds(retry_after)
        if delay is None:
            delay = self.base * 2**attempt
        return min(max(delay, 0.0), self.most)


async def post_once(
    session: aiohttp.ClientSession,
    url: str,
    *,
    headers: dict[str, str],
    within: aiohttp.ClientTimeout,
    form: dict[str, str] | None = None,
    payload: dict[str, Any] | None = None,
) -> Answer:
    """POST ``form`` (form-encoded) or ``payload`` (JSON) to ``url`` once, ``within`` its timeout.

    Redirects are not followed: the credentials in ``headers`` must only ever go to the
    configured API.
    """
    body = None
    if form is not None:
        # Encoded here rather than by aiohttp's FormData: the same bytes, for much less
        # work on a cohort's thousands of sends.
        body = form_body(form)
        headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    async with session.post(
        url, data=body, json=payload, headers=headers, timeout=within, allow_redirects=False
    ) as response:
        return Answer(response.status, await response.read(), response.headers.get("Retry-After"))


async def post_until_answered(
    provider: str,
    post: Callable[[], Awaitable[Answer]],
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]],
) -> Answer:
    """Call ``post`` until the provider gives an answer that is not a 429 or a 5xx.

    Raises :class:`OutcomeUnknown` when the request may have arrived unanswered, and a
    retryable :class:`GatewayError` after ``policy.max_attempts`` tries, so the outbox
    tries again later. ``provider`` names the gateway in errors and the log.
    """
    failure = ""
    for attempt in range(policy.max_attempts):
        try:
            answer = await post()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # Never connected: the provider cannot have seen the request, so retrying is safe.
            failure = type(exc).__name__
            delay = policy.delay(attempt)
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The request may have been accepted; sending again could text the person twice.
            raise OutcomeUnknown(
                f"{provider}: no answer once the request was sent ({type(exc).__name__})"
            ) from exc
        else:
            if answer.status != 429 and answer.status < 500:
                return answer
            failure = f"HTTP {answer.status}"
            delay = policy.delay(attempt, answer.retry_after)
        if attempt + 1 < policy.max_attempts:
            log.warning(f"{provider}_send_retry", attempt=attempt + 1, failure=failure, delay=delay)
            await sleep(delay)
    raise GatewayError(
        f"{provider}: gave up after {policy.max_attempts} attempts ({failure})", retryable=True
    )


def json_object(body: bytes) -> dict[str, Any] | None:
    """``body`` as a JSON object, or None if it is not one (a proxy's HTML, a bare list)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _retry_after_seconds(value: str | None) -> float | None:
    # Only the delta-seconds form; an HTTP-date falls back to exponential backoff.
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None
