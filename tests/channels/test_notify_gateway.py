"""NotifyGateway against the local Notify emulator: each answer Notify documents, and the JWT."""

from __future__ import annotations

import string
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from consentbot.channels.gateway import GatewayError, OutboundSms, OutcomeUnknown, SmsGateway
from consentbot.channels.notify import SEND_PATH, NotifyGateway
from consentbot.channels.notify_auth import ApiKeyError, NotifyApiKey
from consentbot.testkit.notify import (
    SECRET,
    SERVICE_ID,
    SMS_SENDER_ID,
    TEMPLATE_ID,
    FakeNotify,
)
from consentbot.testkit.ports import free_port
from tests.support.recording import RecordingSleep

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]

OUTBOUND = OutboundSms(
    to="+447400900123", text="Thank you. Reply STOP to opt out.", reference="r" * 32, ucs2=False
)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def notify() -> FakeNotify:
    return FakeNotify()


async def gateway_for(
    aiohttp_server: ServerFactory,
    notify: FakeNotify,
    session: aiohttp.ClientSession,
    **overrides: Any,
) -> tuple[NotifyGateway, RecordingSleep]:
    server = await aiohttp_server(notify.app())
    sleep = RecordingSleep()
    options: dict[str, Any] = {
        "api_key": NotifyApiKey.parse(notify.api_key),
        "template_id": TEMPLATE_ID,
        "api_base": str(server.make_url("/")),
        "sleep": sleep,
        **overrides,
    }
    return NotifyGateway(session, **options), sleep


def test_gateway_keeps_the_sms_gateway_contract(session: aiohttp.ClientSession) -> None:
    gateway: SmsGateway = NotifyGateway(
        session, api_key=NotifyApiKey.parse(FakeNotify().api_key), template_id=TEMPLATE_ID
    )
    assert gateway.name == "notify"


async def test_send_posts_the_documented_request_and_returns_notifys_id(
    aiohttp_server: ServerFactory, notify: FakeNotify, session: aiohttp.ClientSession
) -> None:
    gateway, sleep = await gateway_for(aiohttp_server, notify, session)
    notification_id = await gateway.send(OUTBOUND)
    [accepted] = notify.accepted
    assert notification_id == accepted.id
    assert uuid.UUID(notification_id)
    assert accepted.request == {
        "phone_number": OUTBOUND.to,
        "template_id": TEMPLATE_ID,
        "personalisation": {"body": OUTBOUND.text},
        "reference": OUTBOUND.reference,
    }
    assert notify.inbox[OUTBOUND.to] == [OUTBOUND.text]
    assert sleep.delays == []


async def test_the_jwt_names_the_service_and_when_it_was_made(
    aiohttp_server: ServerFactory, notify: FakeNotify, session: aiohttp.ClientSession
) -> None:
    made_at = 1_900_000_000.75
    notify.clock = lambda: made_at
    gateway, _ = await gateway_for(aiohttp_server, notify, session, wall_clock=lambda: made_at)
    await gateway.send(OUTBOUND)
    [accepted] = notify.accepted
    assert accepted.claims == {"iss": SERVICE_ID, "iat": 1_900_000_000}


async def test_the_jwt_is_hs256_signed_with_the_secret() -> None:
    token = NotifyApiKey.parse(FakeNotify().api_key).bearer_token(lambda: 1_900_000_000)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_iat": False}) == {
        "iss": SERVICE_ID,
        "iat": 1_900_000_000,
    }
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, str(uuid.uuid4()), algorithms=["HS256"])


async def test_the_sender_id_is_sent_only_when_set(
    aiohttp_server: ServerFactory, notify: FakeNotify, session: aiohttp.ClientSession
) -> None:
    with_sender, _ = await gateway_for(aiohttp_server, notify, session, sms_sender_id=SMS_SENDER_ID)
    await with_sender.send(OUTBOUND)
    without, _ = await gateway_for(aiohttp_server, notify, session)
    await without.send(OUTBOUND)
    first, second = notify.accepted
    assert first.request["sms_sender_id"] == SMS_SENDER_ID
    assert "sms_sender_id" not in second.request


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_rate_limits_and_server_errors_are_retried_with_backoff(
    aiohttp_server: ServerFactory, notify: FakeNotify, session: aiohttp.ClientSession, status: int
) -> None:
    notify.fail_next = [status, status]
    gateway, sleep = await gateway_for(aiohttp_server, notify, session)
    assert await gateway.send(OUTBOUND) == notify.accepted[0].id
    assert sleep.delays == [0.5, 1.0]
    assert [failure.status for failure in notify.refused] == [status, status]


async def test_a_lasting_rate_limit_is_left_to_the_outbox_to_retry(
    aiohttp_server: ServerFactory, notify: FakeNotify, session: aiohttp.ClientSession
) -> None:
    notify.fail_next = [429, 429, 429]
    gateway, sleep = await gateway_for(aiohttp_server, notify, session, max_attempts=3)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(OUTBOUND)
    assert caught.value.retryable
    assert sleep.delays == [0.5, 1.0]
    assert notify.accepted == []


async def test_a_refused_message_is_final_and_logs_notifys_reason_without_the_number(
    aiohttp_server: ServerFactory, notify: FakeNotify, session: aiohttp.ClientSession
) -> None:
    gateway, sleep = await gateway_for(aiohttp_server, notify, session)
    landline = OutboundSms(to="+441610000000", text="secret words", reference="x", ucs2=False)
    with capture_logs() as logs, pytest.raises(GatewayError) as caught:
        await gateway.send(landline)
    assert not caught.value.retryable
    assert caught.value.code == "400"
    assert sleep.delays == []
    [entry] = [log for log in logs if log["event"] == "notify_rejected"]
    assert entry["notify_error"] == "ValidationError"
    assert entry["notify_message"] == "phone_number Not a UK mobile number"
    logged = repr(logs) + str(caught.value)
    assert "1610000000" not in logged
    assert "secret words" not in logged


async def test_a_refused_key_is_final_and_says_what_to_check(
    aiohttp_server: ServerFactory, notify: FakeNotify, session: aiohttp.ClientSession
) -> None:
    wrong = NotifyApiKey.parse(f"other-{SERVICE_ID}-{uuid.uuid4()}")
    gateway, sleep = await gateway_for(aiohttp_server, notify, session, api_key=wrong)
    with capture_logs() as logs, pytest.raises(GatewayError) as caught:
        await gateway.send(OUTBOUND)
    assert not caught.value.retryable
    assert caught.value.code == "403"
    assert sleep.delays == []
    [entry] = [log for log in logs if log["event"] == "notify_api_key_refused"]
    assert entry["log_level"] == "error"
    assert entry["detail"].startswith("Notify refused the API key: check CONSENTBOT_NOTIFY_API_KEY")
    assert entry["notify_message"] == "Invalid token: API key not found"
    assert wrong.secret not in repr(logs)


async def test_a_clock_more_than_30_seconds_out_is_refused(
    aiohttp_server: ServerFactory, notify: FakeNotify, session: aiohttp.ClientSession
) -> None:
    gateway, _ = await gateway_for(
        aiohttp_server, notify, session, wall_clock=lambda: time.time() - 3600
    )
    with pytest.raises(GatewayError) as caught:
        await gateway.send(OUTBOUND)
    assert caught.value.code == "403"
    [failure] = notify.refused
    assert failure.message == "Error: Your system clock must be accurate to within 30 seconds"


async def test_a_dropped_connection_after_sending_is_an_unknown_outcome(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    """Notify read the request, then the connection went: it may have sent the text."""
    seen: list[str] = []

    async def take_and_drop(request: web.Request) -> web.Response:
        seen.append((await request.json())["reference"])
        assert request.transport is not None
        request.transport.abort()
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post(SEND_PATH, take_and_drop)
    server = await aiohttp_server(app)
    sleep = RecordingSleep()
    gateway = NotifyGateway(
        session,
        api_key=NotifyApiKey.parse(FakeNotify().api_key),
        template_id=TEMPLATE_ID,
        api_base=str(server.make_url("/")),
        sleep=sleep,
    )
    with pytest.raises(OutcomeUnknown):
        await gateway.send(OUTBOUND)
    assert seen == [OUTBOUND.reference]
    assert sleep.delays == []


async def test_an_unanswered_request_is_an_unknown_outcome(
    aiohttp_server: ServerFactory, notify: FakeNotify, session: aiohttp.ClientSession
) -> None:
    notify.hang_next = 1
    gateway, _ = await gateway_for(aiohttp_server, notify, session, request_timeout=0.2)
    try:
        with pytest.raises(OutcomeUnknown):
            await gateway.send(OUTBOUND)
    finally:
        notify.release_hung()
    assert [a.reference for a in notify.accepted] == [OUTBOUND.reference]


async def test_a_notify_it_cannot_reach_is_retried_then_left_to_the_outbox(
    session: aiohttp.ClientSession,
) -> None:
    sleep = RecordingSleep()
    gateway = NotifyGateway(
        session,
        api_key=NotifyApiKey.parse(FakeNotify().api_key),
        template_id=TEMPLATE_ID,
        api_base=f"http://127.0.0.1:{free_port()}",
        max_attempts=2,
        sleep=sleep,
    )
    with pytest.raises(GatewayError) as caught:
        await gateway.send(OUTBOUND)
    assert caught.value.retryable
    assert not isinstance(caught.value, OutcomeUnknown)
    assert sleep.delays == [0.5]


UUIDS = st.uuids().map(str)
NAMES = st.text(alphabet=string.ascii_letters + string.digits + "_- ", min_size=0, max_size=30)


@given(name=NAMES, service=UUIDS, secret=UUIDS)
def test_any_key_notify_issues_parses_to_its_service_id_and_secret(
    name: str, service: str, secret: str
) -> None:
    key = f"{name}-{service}-{secret}" if name else f"{service}-{secret}"
    parsed = NotifyApiKey.parse(key)
    assert (parsed.service_id, parsed.secret) == (service, secret)
    assert secret not in repr(parsed)


@given(key=st.text(max_size=120))
def test_a_malformed_key_is_refused_without_quoting_it(key: str) -> None:
    """The message is the same whatever the key: nothing of the secret can leak into it."""
    with pytest.raises(ApiKeyError) as fixed:
        NotifyApiKey.parse("not a key")
    with pytest.raises(ApiKeyError) as caught:  # random text is never two UUIDs at the end
        NotifyApiKey.parse(key)
    assert str(caught.value) == str(fixed.value)


@pytest.mark.parametrize(
    "key",
    [
        "",
        f"name-{SERVICE_ID}",
        f"name-{SERVICE_ID}-{SECRET[:-1]}",
        f"name-{SERVICE_ID}{SECRET}",
        f"name-{SERVICE_ID}-{SECRET}x",
        f"name-{SERVICE_ID.replace('-', '')}-{SECRET}",
    ],
)
def test_keys_without_two_uuids_at_the_end_are_refused(key: str) -> None:
    with pytest.raises(ApiKeyError):
        NotifyApiKey.parse(key)
