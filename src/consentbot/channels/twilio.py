"""Twilio: sending through the Messages REST API and receiving its webhooks.

Replies go out through :class:`TwilioGateway` (called by the outbox), never as
TwiML, so the inbound webhook always answers with an empty ``<Response>``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Final

import aiohttp
import structlog
from aiohttp import web

from consentbot.channels.gateway import (
    DeliveryHandler,
    GatewayError,
    InboundHandler,
    InboundSms,
    OutboundSms,
    RecipientOptedOut,
)
from consentbot.channels.http_retry import (
    RetryPolicy,
    json_object,
    post_once,
    post_until_answered,
)
from consentbot.channels.twilio_signature import SIGNATURE_HEADER, is_valid_signature

log = structlog.get_logger(__name__)

GATEWAY_NAME: Final = "twilio"
INBOUND_PATH: Final = "/sms/twilio/inbound"
STATUS_PATH: Final = "/sms/twilio/status"
EMPTY_TWIML: Final = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
OPTED_OUT_CODE: Final = "21610"
"""Twilio's error code for a recipient who replied STOP at the carrier."""


class TwilioGateway:
    """Sends SMS through Twilio's Messages API, retrying rate limits and server errors.

    ``sender`` is a phone number, or a Messaging Service SID (starting ``MG``).
    A 429, a 5xx or a failure to connect is retried ``max_attempts`` times in
    all, waiting ``backoff_base * 2**attempt`` seconds (or the ``Retry-After``
    the response asks for) up to ``max_backoff``; then :class:`GatewayError`
    with ``retryable=True`` is raised so the outbox can try again later. A
    timeout or a dropped connection once the request is on its way raises
    :class:`OutcomeUnknown` at once: Twilio may have accepted the message.
    """

    name: str = GATEWAY_NAME

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_base: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        status_callback_url: str | None,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        max_backoff: float = 30.0,
        request_timeout: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._session = session
        self._url = f"{api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._headers = {"Authorization": aiohttp.encode_basic_auth(account_sid, auth_token)}
        self._sender = sender
        self._status_callback_url = status_callback_url
        self._retry = RetryPolicy(max_attempts, backoff_base, max_backoff)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._sleep = sleep

    async def send(self, message: OutboundSms) -> str:
        """Send one message and return Twilio's Message SID for it.

        Raises :class:`RecipientOptedOut` for Twilio error 21610,
        :class:`OutcomeUnknown` when Twilio may have accepted it without our hearing
        so, and :class:`GatewayError` for any other failure.
        """
        post = partial(
            post_once,
            self._session,
            self._url,
            headers=self._headers,
            within=self._timeout,
            form=self._form(message),
        )
        answer = await post_until_answered(GATEWAY_NAME, post, self._retry, self._sleep)
        if answer.status in (200, 201):
            return _message_sid(answer.body)
        raise _rejection(answer.status, answer.body)

    def _form(self, message: OutboundSms) -> dict[str, str]:
        # Twilio chooses GSM-7 or UCS-2 itself from the body, so ``message.ucs2`` needs no field.
        form = {"To": message.to, "Body": message.text}
        if self._sender.startswith("MG"):
            form["MessagingServiceSid"] = self._sender
        else:
            form["From"] = self._sender
        if self._status_callback_url:
            form["StatusCallback"] = self._status_callback_url
        return form


def _message_sid(body: bytes) -> str:
    payload = json_object(body)
    sid = payload.get("sid") if payload else None
    if not isinstance(sid, str) or not sid:
        # The message may well have been accepted: retrying could send it twice.
        raise GatewayError("twilio: accepted, but the response has no sid", retryable=False)
    return sid


def _rejection(status: int, body: bytes) -> GatewayError:
    payload = json_object(body)
    raw_code = payload.get("code") if payload else None
    code = str(raw_code) if raw_code is not None else None
    # Twilio's "message" often quotes the phone number, so it stays out of the error.
    if code == OPTED_OUT_CODE:
        return RecipientOptedOut(f"twilio: recipient opted out (HTTP {status})", code=code)
    return GatewayError(
        f"twilio: rejected (HTTP {status}, code {code})", retryable=False, code=code
    )


def twilio_routes(
    *,
    on_inbound: InboundHandler,
    on_status: DeliveryHandler,
    auth_token: str | None,
    public_url: str | None,
    now: Callable[[], datetime],
) -> list[web.RouteDef]:
    """Routes for Twilio's inbound SMS and delivery status webhooks.

    With ``auth_token`` set, each request must carry a valid ``X-Twilio-Signature``
    over ``public_url`` plus the request's path and query (the request's own URL
    when ``public_url`` is None, which is wrong behind a TLS-terminating proxy),
    or it is refused with 403 before any handler runs. With ``auth_token`` None
    nothing is checked, which is only fit for development.
    """
    if auth_token == "":
        raise ValueError("auth_token must not be empty: an empty HMAC key is no secret")
    base_url = public_url.rstrip("/") if public_url is not None else None

    async def inbound(request: web.Request) -> web.Response:
        form = await _verified_form(request, auth_token, base_url)
        sender = form.get("From")
        message_id = form.get("MessageSid") or form.get("SmsSid")
        if not sender or not message_id:
            log.info("twilio_webhook_bad_request", path=request.path, reason="missing_fields")
            raise web.HTTPBadRequest(text="missing From or MessageSid")
        await on_inbound(
            InboundSms(
                gateway=GATEWAY_NAME,
                gateway_message_id=message_id,
                sender=sender,
                recipient=form.get("To", ""),
                text=form.get("Body", ""),
                received_at=now(),
            )
        )
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def status(request: web.Request) -> web.Response:
        form = await _verified_form(request, auth_token, base_url)
        message_id = form.get("MessageSid")
        message_status = form.get("MessageStatus")
        if not message_id or not message_status:
            log.info("twilio_webhook_bad_request", path=request.path, reason="missing_fields")
            raise web.HTTPBadRequest(text="missing MessageSid or MessageStatus")
        await on_status(message_id, message_status, form.get("ErrorCode") or None)
        return web.Response(status=204)

    return [web.post(INBOUND_PATH, inbound), web.post(STATUS_PATH, status)]


async def _verified_form(
    request: web.Request, auth_token: str | None, base_url: str | None
) -> dict[str, str]:
    """The POST form as name → first value, after checking Twilio's signature.

    Raises 403 when the signature is missing or wrong, 400 when a field is not text.
    """
    posted = await request.post()
    pairs: list[tuple[str, str]] = []
    for name, value in posted.items():
        if not isinstance(value, str):
            raise web.HTTPBadRequest(text="expected a form-encoded body")
        pairs.append((name, value))
    if auth_token is not None:
        # raw_path keeps the query exactly as Twilio encoded it when it signed the URL.
        url = (base_url or f"{request.scheme}://{request.host}") + request.raw_path
        signature = request.headers.get(SIGNATURE_HEADER)
        if not is_valid_signature(auth_token, url, pairs, signature):
            log.warning(
                "twilio_webhook_forbidden",
                path=request.path,
                reason="invalid_signature" if signature else "missing_signature",
            )
            raise web.HTTPForbidden(text="invalid signature")
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form
