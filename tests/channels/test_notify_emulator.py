"""The Notify emulator refuses what Notify documents it refuses, in Notify's error shape."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from consentbot.channels.notify import SEND_PATH
from consentbot.testkit.notify import SECRET, SERVICE_ID, SMS_SENDER_ID, TEMPLATE_ID, FakeNotify

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]

GOOD: dict[str, Any] = {
    "phone_number": "+447400900501",
    "template_id": TEMPLATE_ID,
    "personalisation": {"body": "Hello"},
    "reference": "ref-1",
}


def bearer(claims: dict[str, Any] | None = None, secret: str = SECRET) -> dict[str, str]:
    claims = {"iss": SERVICE_ID, "iat": int(time.time())} if claims is None else claims
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


async def post(
    aiohttp_client: ClientFactory,
    body: Any,
    headers: dict[str, str] | None = None,
    notify: FakeNotify | None = None,
) -> tuple[int, dict[str, Any]]:
    client = await aiohttp_client((notify or FakeNotify()).app())
    response = await client.post(
        SEND_PATH, json=body, headers=bearer() if headers is None else headers
    )
    return response.status, await response.json()


async def test_an_accepted_message_gets_notifys_response(aiohttp_client: ClientFactory) -> None:
    notify = FakeNotify()
    status, body = await post(
        aiohttp_client, GOOD | {"sms_sender_id": SMS_SENDER_ID}, notify=notify
    )
    assert status == 201
    assert set(body) == {"id", "reference", "content", "uri", "template", "scheduled_for"}
    assert body["reference"] == "ref-1"
    assert body["content"]["body"] == "Hello"
    assert set(body["content"]) == {"body", "from_number"}
    assert body["template"]["id"] == TEMPLATE_ID
    assert set(body["template"]) == {"id", "version", "uri"}
    assert body["uri"].endswith(f"/v2/notifications/{body['id']}")
    [accepted] = notify.accepted
    assert (accepted.id, accepted.sms_sender_id) == (body["id"], SMS_SENDER_ID)


@pytest.mark.parametrize(
    ("body", "status", "error", "message"),
    [
        (GOOD | {"to": "+447400900501"}, 400, "ValidationError",
         "Additional properties are not allowed (to was unexpected)"),
        ({k: v for k, v in GOOD.items() if k != "template_id"}, 400, "ValidationError",
         "template_id is a required property"),
        (GOOD | {"template_id": "welcome"}, 400, "ValidationError", "template_id is not a valid UUID"),
        (GOOD | {"template_id": str(uuid.uuid4())}, 400, "BadRequestError", "Template not found"),
        (GOOD | {"sms_sender_id": str(uuid.uuid4())}, 400, "BadRequestError",
         "sms_sender_id"),
        (GOOD | {"phone_number": "+441610000000"}, 400, "ValidationError",
         "phone_number Not a UK mobile number"),
        (GOOD | {"phone_number": "12"}, 400, "ValidationError", "phone_number Not a valid phone number"),
        (GOOD | {"personalisation": {}}, 400, "BadRequestError", "Missing personalisation: body"),
        (GOOD | {"personalisation": {"body": "x" * 919}}, 400, "BadRequestError",
         "Text messages cannot be longer than 918 characters"),
        ([GOOD], 400, "BadRequestError", "Invalid JSON supplied in POST data"),
    ],
)  # fmt: skip
async def test_a_request_notify_would_refuse_is_refused_in_its_shape(
    aiohttp_client: ClientFactory, body: Any, status: int, error: str, message: str
) -> None:
    notify = FakeNotify()
    got, answer = await post(aiohttp_client, body, notify=notify)
    assert got == status
    assert answer["status_code"] == status
    [only] = answer["errors"]
    assert only["error"] == error
    assert only["message"].startswith(message)
    assert notify.accepted == []


NOW = 1_900_000_000
"""The emulator's clock in the JWT tests: fixed, so nothing depends on how long a test takes."""


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({}, 401, "Unauthorized: authentication token must be provided"),
        (bearer({"iss": SERVICE_ID, "iat": NOW}, secret=str(uuid.uuid4())), 403,
         "Invalid token: API key not found"),
        (bearer({"iss": str(uuid.uuid4()), "iat": NOW}), 403, "Invalid token: service not found"),
        (bearer({"iss": SERVICE_ID, "iat": NOW - 31}), 403,
         "Error: Your system clock must be accurate to within 30 seconds"),
        (bearer({"iss": SERVICE_ID, "iat": NOW + 31}), 403,
         "Error: Your system clock must be accurate to within 30 seconds"),
        (bearer({"iss": SERVICE_ID}), 403, "Invalid token: iat not found in token"),
        ({"Authorization": "Bearer not-a-jwt"}, 403, "Invalid token: malformed token"),
    ],
)  # fmt: skip
async def test_the_jwt_must_be_signed_by_the_service_and_fresh(
    aiohttp_client: ClientFactory, headers: dict[str, str], status: int, message: str
) -> None:
    notify = FakeNotify(clock=lambda: NOW)
    got, answer = await post(aiohttp_client, GOOD, headers, notify=notify)
    assert (got, answer["errors"][0]["message"]) == (status, message)
    assert answer["errors"][0]["error"] == "AuthError"
    assert notify.accepted == []


@pytest.mark.parametrize("skew", [-30, 0, 30])
async def test_a_jwt_within_30_seconds_is_accepted(
    aiohttp_client: ClientFactory, skew: int
) -> None:
    notify = FakeNotify(clock=lambda: NOW)
    got, _ = await post(
        aiohttp_client, GOOD, bearer({"iss": SERVICE_ID, "iat": NOW + skew}), notify
    )
    assert got == 201


@pytest.mark.parametrize(
    ("status", "error"), [(429, "RateLimitError"), (500, "Exception"), (403, "AuthError")]
)
async def test_it_can_be_told_to_fail(
    aiohttp_client: ClientFactory, status: int, error: str
) -> None:
    notify = FakeNotify(fail_next=[status])
    client = await aiohttp_client(notify.app())
    first = await client.post(SEND_PATH, json=GOOD, headers=bearer())
    second = await client.post(SEND_PATH, json=GOOD, headers=bearer())
    assert (first.status, (await first.json())["errors"][0]["error"]) == (status, error)
    assert second.status == 201
    assert len(notify.accepted) == 1
