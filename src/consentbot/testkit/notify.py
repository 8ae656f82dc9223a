"""A local emulator of GOV.UK Notify's documented API, for tests and benchmarks.

It serves ``POST /v2/notifications/sms`` as Notify documents it: the bearer JWT must be
HS256-signed with the service's secret, ``iss`` must be the service id and ``iat`` within
30 seconds of the emulator's clock; unknown fields, a missing or malformed field, an
unknown template or sender id and an invalid number are refused with 400 in Notify's error
shape ``{"status_code", "errors": [{"error", "message"}]}``. An accepted message gets 201
with Notify's response (``id``, ``reference``, ``content``, ``uri``, ``template``) and is
recorded. It can be told to fail (429, 500, 403...) or to hang, and it posts received texts
and delivery receipts to the service's callbacks with the callback bearer token, as Notify
does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp
import jwt
import phonenumbers
from aiohttp import web

from consentbot.channels.notify import INBOUND_PATH, SEND_PATH, STATUS_PATH, ReceiptStatus
from consentbot.channels.notify_auth import JWT_ALGORITHM, is_uuid
from consentbot.testkit.ports import LOCALHOST

SERVICE_ID: Final = "6f0c3b8e-2d1a-4c5b-9e7f-0a1b2c3d4e5f"
SECRET: Final = "0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a"  # noqa: S105 (a fake's credential)
API_KEY: Final = f"consentbot_test-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID: Final = "3a5b7c9d-1e2f-4a6b-8c0d-2e4f6a8b0c1d"
SMS_SENDER_ID: Final = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
CALLBACK_TOKEN: Final = "notify-callback-token-0123456789"  # noqa: S105 (a fake's credential)
FROM_NUMBER: Final = "GOVUK"
SERVICE_NUMBER: Final = "07400900999"
"""The service's own number for received texts (``destination_number``)."""
CLOCK_SKEW: Final = 30
MAX_LENGTH: Final = 918
KNOWN_FIELDS: Final = frozenset(
    {
        "phone_number",
        "template_id",
        "personalisation",
        "reference",
        "sms_sender_id",
        "scheduled_for",
    }
)
_ERROR_TYPES: Final = {
    400: "BadRequestError",
    401: "AuthError",
    403: "AuthError",
    429: "RateLimitError",
    500: "Exception",
}
_FAILURE_MESSAGES: Final = {
    403: "Invalid token: API key not found",
    429: "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
    500: "Internal server error",
}


@dataclass(frozen=True, slots=True)
class Accepted:
    """One text message the emulator accepted, as it was asked for."""

    id: str
    phone_number: str
    body: str
    reference: str | None
    sms_sender_id: str | None
    request: dict[str, Any]
    """The JSON body exactly as posted."""
    claims: dict[str, Any]
    """The JWT's claims."""
    at: float
    """``time.perf_counter()`` when it arrived (benchmarks measure replies by it)."""


class NotifyFailure(Exception):
    """A request Notify would refuse: the status and the error as Notify words it."""

    def __init__(self, status: int, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error or _ERROR_TYPES.get(status, "BadRequestError")
        self.message = message

    def response(self) -> web.Response:
        body = {
            "status_code": self.status,
            "errors": [{"error": self.error, "message": self.message}],
        }
        return web.json_response(body, status=self.status)


@dataclass
class FakeNotify:
    """GOV.UK Notify for one service: its key, templates and sender ids, and what it accepted."""

    service_id: str = SERVICE_ID
    secret: str = SECRET
    template_ids: frozenset[str] = frozenset({TEMPLATE_ID})
    sms_sender_ids: frozenset[str] = frozenset({SMS_SENDER_ID})
    callback_token: str = CALLBACK_TOKEN
    clock: Callable[[], float] = time.time
    """Notify's wall clock, against which ``iat`` is checked."""
    callback_base: str | None = None
    """The service's base URL, where Notify posts callbacks (see :meth:`receive_text`)."""
    inbox: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """Bodies accepted, per ``phone_number`` as posted, in order."""
    accepted: list[Accepted] = field(default_factory=list)
    refused: list[NotifyFailure] = field(default_factory=list)
    """Every request refused, with Notify's error, in order."""
    fail_next: list[int] = field(default_factory=list)
    """Statuses (429, 500, 403...) to answer the next requests with, before checking them."""
    hang_next: int = 0
    """How many messages to accept and then never answer (until :meth:`release_hung`)."""
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def api_key(self) -> str:
        """The service's API key as Notify would issue it."""
        return f"consentbot_test-{self.service_id}-{self.secret}"

    def app(self) -> web.Application:
        """The emulator as an aiohttp application."""
        app = web.Application()
        app.router.add_post(SEND_PATH, self._send_sms)
        return app

    async def _send_sms(self, request: web.Request) -> web.Response:
        try:
            if self.fail_next:
                status = self.fail_next.pop(0)
                raise NotifyFailure(status, _FAILURE_MESSAGES.get(status, "Failed"))
            claims = self._authenticate(request.headers.get("Authorization"))
            payload = await _json_body(request)
            accepted = self._accept(payload, claims)
        except NotifyFailure as failure:
            self.refused.append(failure)
            return failure.response()
        self.accepted.append(accepted)
        self.inbox[accepted.phone_number].append(accepted.body)
        if self.hang_next:
            self.hang_next -= 1
            await self._released.wait()
        base = f"{request.scheme}://{request.host}"
        template = payload["template_id"]
        return web.json_response(
            {
                "id": accepted.id,
                "reference": accepted.reference,
                "content": {"body": accepted.body, "from_number": FROM_NUMBER},
                "uri": f"{base}/v2/notifications/{accepted.id}",
                "template": {
                    "id": template,
                    "version": 1,
                    "uri": f"{base}/services/{self.service_id}/templates/{template}",
                },
                "scheduled_for": None,
            },
            status=201,
        )

    def _authenticate(self, header: str | None) -> dict[str, Any]:
        if not header or not header.startswith("Bearer "):
            raise NotifyFailure(401, "Unauthorized: authentication token must be provided")
        token = header.removeprefix("Bearer ")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=[JWT_ALGORITHM],
                options={"verify_iat": False, "require": ["iss", "iat"]},
            )
        except jwt.InvalidTokenError as error:
            raise NotifyFailure(403, f"Invalid token: {_jwt_problem(error)}") from None
        if claims["iss"] != self.service_id:
            raise NotifyFailure(403, "Invalid token: service not found")
        iat = claims["iat"]
        if not isinstance(iat, int) or abs(self.clock() - iat) > CLOCK_SKEW:
            raise NotifyFailure(
                403, "Error: Your system clock must be accurate to within 30 seconds"
            )
        return claims

    def _accept(self, payload: dict[str, Any], claims: dict[str, Any]) -> Accepted:
        for unknown in sorted(set(payload) - KNOWN_FIELDS):
            raise NotifyFailure(
                400,
                f"Additional properties are not allowed ({unknown} was unexpected)",
                "ValidationError",
            )
        for required in ("phone_number", "template_id"):
            if required not in payload:
                raise NotifyFailure(400, f"{required} is a required property", "ValidationError")
        number, template = payload["phone_number"], payload["template_id"]
        if not isinstance(number, str):
            raise NotifyFailure(
                400, f"phone_number {number!r} is not of type string", "ValidationError"
            )
        _check_number(number)
        _check_uuid("template_id", template)
        if template not in self.template_ids:
            raise NotifyFailure(400, "Template not found")
        sender = payload.get("sms_sender_id")
        if sender is not None:
            _check_uuid("sms_sender_id", sender)
            if sender not in self.sms_sender_ids:
                raise NotifyFailure(
                    400,
                    f"sms_sender_id {sender} does not exist in database for service id {self.service_id}",
                )
        reference = payload.get("reference")
        if reference is not None and not isinstance(reference, str):
            raise NotifyFailure(400, "reference is not of type string", "ValidationError")
        personalisation = payload.get("personalisation") or {}
        if not isinstance(personalisation, dict):
            raise NotifyFailure(400, "personalisation is not of type object", "ValidationError")
        body = personalisation.get("body")
        if not isinstance(body, str):
            # The template is ``((body))``: its one placeholder must be filled.
            raise NotifyFailure(400, "Missing personalisation: body")
        if len(body) > MAX_LENGTH:
            raise NotifyFailure(
                400,
                f"Text messages cannot be longer than {MAX_LENGTH} characters. "
                f"Your message is {len(body)} characters",
            )
        return Accepted(
            id=str(uuid.uuid4()),
            phone_number=number,
            body=body,
            reference=reference,
            sms_sender_id=sender,
            request=payload,
            claims=claims,
            at=time.perf_counter(),
        )

    def release_hung(self) -> None:
        """Let every hanging request finish (their callers have long given up)."""
        self._released.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[int]:
        """Serve on a free port of 127.0.0.1 for the block; yields the port."""
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, LOCALHOST, 0)
            await site.start()
            port: int = runner.addresses[0][1]
            yield port
        finally:
            self.release_hung()
            await runner.cleanup()

    # -- callbacks: what Notify posts to the service --------------------------------

    def callback_headers(self, token: str | None = None) -> dict[str, str]:
        """The header Notify puts on every callback."""
        return {"Authorization": f"Bearer {self.callback_token if token is None else token}"}

    async def receive_text(
        self, source_number: str, message: str, *, message_id: str | None = None
    ) -> tuple[str, int]:
        """A person texts the service: post the received-text callback.

        Returns the id Notify gave the message (to replay it) and the service's HTTP status.
        """
        message_id = message_id or str(uuid.uuid4())
        payload = received_text(source_number, message, message_id=message_id)
        return message_id, await self._post(INBOUND_PATH, payload)

    async def send_receipt(self, accepted: Accepted, status: ReceiptStatus) -> int:
        """Post the delivery receipt for a message it accepted; returns the service's status."""
        return await self._post(STATUS_PATH, delivery_receipt(accepted, status))

    async def _post(self, path: str, payload: dict[str, Any]) -> int:
        if self.callback_base is None:
            raise RuntimeError("set callback_base to the service's URL first")
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self.callback_base.rstrip("/") + path, json=payload, headers=self.callback_headers()
            ) as response,
        ):
            await response.read()
            return response.status


def received_text(source_number: str, message: str, *, message_id: str) -> dict[str, Any]:
    """Notify's received-text callback body: the sender without ``+``, as Notify writes it."""
    return {
        "id": message_id,
        "source_number": source_number.removeprefix("+").replace(" ", ""),
        "destination_number": SERVICE_NUMBER,
        "message": message,
        "date_received": _now_iso(),
    }


def delivery_receipt(accepted: Accepted, status: ReceiptStatus) -> dict[str, Any]:
    """Notify's delivery-receipt callback body for a message it accepted."""
    now = _now_iso()
    return {
        "id": accepted.id,
        "reference": accepted.reference,
        "to": accepted.phone_number,
        "status": status.value,
        "created_at": now,
        "completed_at": now,
        "sent_at": now,
        "notification_type": "sms",
        "template_id": accepted.request.get("template_id"),
        "template_version": 1,
    }


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        payload = json.loads(await request.read())
    except ValueError:
        raise NotifyFailure(400, "Invalid JSON supplied in POST data") from None
    if not isinstance(payload, dict):
        raise NotifyFailure(400, "Invalid JSON supplied in POST data")
    return payload


def _check_uuid(name: str, value: object) -> None:
    if not isinstance(value, str) or not is_uuid(value):
        raise NotifyFailure(400, f"{name} is not a valid UUID", "ValidationError")


def _check_number(number: str) -> None:
    """Notify's check: a valid number; a UK one must be a mobile."""
    try:
        parsed = phonenumbers.parse(number, "GB")
    except phonenumbers.NumberParseException:
        raise NotifyFailure(
            400, "phone_number Not a valid phone number", "ValidationError"
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise NotifyFailure(400, "phone_number Not a valid phone number", "ValidationError")
    if phonenumbers.region_code_for_number(parsed) == "GB" and phonenumbers.number_type(
        parsed
    ) not in (phonenumbers.PhoneNumberType.MOBILE,):
        raise NotifyFailure(400, "phone_number Not a UK mobile number", "ValidationError")


def _jwt_problem(error: jwt.InvalidTokenError) -> str:
    if isinstance(error, jwt.InvalidSignatureError):
        return "API key not found"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"{error.claim} not found in token"
    return "malformed token"
