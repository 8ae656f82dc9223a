"""GOV.UK Notify: sending through ``POST /v2/notifications/sms`` and receiving its callbacks.

Outbound, :class:`NotifyGateway` posts ``{"phone_number", "template_id", "personalisation":
{"body"}, "reference"}`` (plus ``sms_sender_id`` when set) with a fresh JWT; the template's
whole body must be ``((body))``, so the text goes out exactly as the service wrote it and
Notify picks GSM-7 or UCS-2 itself. The outbox reference travels as Notify's ``reference``
and comes back in delivery receipts.

Inbound, Notify posts JSON to two callback URLs with ``Authorization: Bearer <token>``,
the token the team typed into Notify's *Callbacks* page: received texts
(:data:`INBOUND_PATH`) and delivery receipts (:data:`STATUS_PATH`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

import aiohttp
import structlog
from aiohttp import web

from consentbot.channels.gateway import (
    DeliveryHandler,
    GatewayError,
    InboundHandler,
    InboundSms,
    OutboundSms,
)
from consentbot.channels.http_retry import (
    Answer,
    RetryPolicy,
    json_object,
    post_once,
    post_until_answered,
)
from consentbot.channels.notify_auth import DEFAULT_API_BASE, NotifyApiKey

__all__ = [
    "DEFAULT_API_BASE",
    "GATEWAY_NAME",
    "INBOUND_PATH",
    "SEND_PATH",
    "STATUS_PATH",
    "NotifyGateway",
    "ReceiptStatus",
    "notify_routes",
]

log = structlog.get_logger(__name__)

GATEWAY_NAME: Final = "notify"
SEND_PATH: Final = "/v2/notifications/sms"
INBOUND_PATH: Final = "/sms/notify/inbound"
STATUS_PATH: Final = "/sms/notify/status"
_LONG_NUMBER: Final = re.compile(r"\+?\d[\d ]{5,}\d")


class ReceiptStatus(StrEnum):
    """The statuses Notify's delivery receipts carry for a text message."""

    DELIVERED = "delivered"
    PERMANENT_FAILURE = "permanent-failure"
    """The number does not exist or cannot receive texts: do not try it again."""
    TEMPORARY_FAILURE = "temporary-failure"
    """The phone was off or out of reach for Notify's 72 hours of trying."""
    TECHNICAL_FAILURE = "technical-failure"
    """Notify's own problem: the message was not sent."""


class NotifyGateway:
    """Sends SMS through GOV.UK Notify, retrying rate limits and server errors with backoff.

    A 429, a 5xx or a failure to connect is tried ``max_attempts`` times in all, waiting
    ``backoff_base * 2**attempt`` seconds, or the ``Retry-After`` asked for (at most
    ``max_backoff``; :mod:`consentbot.channels.http_retry`); then a retryable
    :class:`GatewayError` lets the outbox try later. A 400 (Notify refused this message) and
    a 403 (Notify refused the key) are final. A timeout or a dropped connection once the
    request is on its way raises :class:`OutcomeUnknown`: Notify may have taken the message.
    """

    name: str = GATEWAY_NAME

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: NotifyApiKey,
        template_id: str,
        sms_sender_id: str | None = None,
        api_base: str = DEFAULT_API_BASE,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        max_backoff: float = 30.0,
        request_timeout: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._url = api_base.rstrip("/") + SEND_PATH
        self._key = api_key
        self._template_id = template_id
        self._sms_sender_id = sms_sender_id
        self._retry = RetryPolicy(max_attempts, backoff_base, max_backoff)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._sleep = sleep
        self._wall_clock = wall_clock

    def _payload(self, message: OutboundSms) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "phone_number": message.to,
            "template_id": self._template_id,
            "personalisation": {"body": message.text},
            "reference": message.reference,
        }
        if self._sms_sender_id:
            payload["sms_sender_id"] = self._sms_sender_id
        return payload

    async def send(self, message: OutboundSms) -> str:
        """Send one message; return Notify's notification id for it."""
        payload = self._payload(message)

        async def post() -> Answer:
            # A new token each time: a retry after a long backoff must not carry a stale iat.
            headers = {"Authorization": f"Bearer {self._key.bearer_token(self._wall_clock)}"}
            return await post_once(
                self._session, self._url, headers=headers, within=self._timeout, payload=payload
            )

        answer = await post_until_answered(GATEWAY_NAME, post, self._retry, self._sleep)
        if answer.status == 201:
            return _notification_id(answer.body)
        raise _rejection(answer.status, answer.body)


def _notification_id(body: bytes) -> str:
    payload = json_object(body)
    notification_id = payload.get("id") if payload else None
    if not isinstance(notification_id, str) or not notification_id:
        # It was accepted (201): retrying could text the person twice.
        raise GatewayError("notify: accepted, but the response has no id", retryable=False)
    return notification_id


def _first_error(body: bytes) -> tuple[str | None, str]:
    """Notify's first ``{"error", "message"}``, with anything like a phone number masked."""
    payload = json_object(body)
    errors = payload.get("errors") if payload else None
    first = errors[0] if isinstance(errors, list) and errors else None
    if not isinstance(first, dict):
        return None, "no error message"
    kind = first.get("error")
    message = str(first.get("message", ""))[:200]
    return (str(kind) if kind is not None else None), _LONG_NUMBER.sub("[number]", message)


def _rejection(status: int, body: bytes) -> GatewayError:
    kind, message = _first_error(body)
    if status == 403:
        log.error(
            "notify_api_key_refused",
            detail="Notify refused the API key: check CONSENTBOT_NOTIFY_API_KEY (the whole key, "
            "for this service, not revoked) and that this server's clock is right to within "
            "30 seconds",
            notify_error=kind,
            notify_message=message,
        )
        return GatewayError("notify: API key refused (HTTP 403)", retryable=False, code="403")
    log.warning("notify_rejected", status=status, notify_error=kind, notify_message=message)
    return GatewayError(
        f"notify: rejected (HTTP {status}, {kind}: {message})", retryable=False, code=str(status)
    )


def notify_routes(
    *,
    on_inbound: InboundHandler,
    on_status: DeliveryHandler,
    callback_token: str,
    now: Callable[[], datetime],
) -> list[web.RouteDef]:
    """Routes for Notify's received-text and delivery-receipt callbacks.

    Each request must carry ``Authorization: Bearer <callback_token>`` (compared in constant
    time) or it gets 401 and is not read. A body that is not the JSON object Notify documents
    gets 400 naming the field. Received texts go to ``on_inbound`` (Notify's ``id`` is the
    deduplication key); receipts go to ``on_status`` as ``(reference, status, None)``, the
    reference being our outbox row's.
    """
    if not callback_token:
        raise ValueError("callback_token must not be empty: the routes would act for any number")
    expected = f"Bearer {callback_token}".encode()

    def authorised(request: web.Request) -> bool:
        given = request.headers.get("Authorization", "").encode("utf-8", errors="replace")
        if hmac.compare_digest(given, expected):
            return True
        # The address only: the body carries the number and the text.
        log.warning("notify_callback_unauthorised", path=request.path, peer=request.remote)
        return False

    async def inbound(request: web.Request) -> web.Response:
        if not authorised(request):
            return _unauthorised()
        payload = await _callback_json(request)
        fields = _strings(payload, required=("id", "source_number", "message"))
        destination = payload.get("destination_number")
        await on_inbound(
            InboundSms(
                gateway=GATEWAY_NAME,
                gateway_message_id=fields["id"],
                sender=_international(fields["source_number"]),
                recipient=destination if isinstance(destination, str) else "",
                text=fields["message"],
                received_at=now(),
            )
        )
        return web.Response(status=204)

    async def status(request: web.Request) -> web.Response:
        if not authorised(request):
            return _unauthorised()
        payload = await _callback_json(request)
        fields = _strings(payload, required=("id", "status"))
        try:
            receipt = ReceiptStatus(fields["status"])
        except ValueError:
            known = ", ".join(s.value for s in ReceiptStatus)
            raise _bad_request(f"status must be one of {known}") from None
        reference = payload.get("reference")
        if reference is None:
            # Only our own sends carry a reference; this one came from elsewhere in the service.
            log.info("notify_receipt_without_reference", status=receipt.value)
            return web.Response(status=204)
        if not isinstance(reference, str) or not reference:
            raise _bad_request("reference must be a string or null")
        await on_status(reference, receipt.value, None)
        return web.Response(status=204)

    return [web.post(INBOUND_PATH, inbound), web.post(STATUS_PATH, status)]


def _unauthorised() -> web.Response:
    return web.Response(status=401, headers={"WWW-Authenticate": "Bearer"})


def _bad_request(reason: str) -> web.HTTPBadRequest:
    log.info("notify_callback_bad_request", reason=reason)
    return web.HTTPBadRequest(text=json.dumps({"error": reason}), content_type="application/json")


async def _callback_json(request: web.Request) -> dict[str, Any]:
    try:
        payload = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise _bad_request("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise _bad_request("the body must be a JSON object")
    return payload


def _strings(payload: dict[str, Any], *, required: tuple[str, ...]) -> dict[str, str]:
    """The ``required`` fields, each a string (non-empty, except ``message``)."""
    found: dict[str, str] = {}
    for name in required:
        value = payload.get(name)
        if not isinstance(value, str) or (not value and name != "message"):
            raise _bad_request(f"{name} is required and must be a non-empty string")
        found[name] = value
    return found


def _international(number: str) -> str:
    """Notify writes the sender as ``447700912345``: international, without the ``+``."""
    digits = number.strip()
    if digits.isdigit() and not digits.startswith("0"):
        return "+" + digits
    return digits
