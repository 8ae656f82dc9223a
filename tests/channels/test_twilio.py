"""Twilio: webhook signatures, the inbound and status webhooks, and sending."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from consentbot.channels.gateway import (
    GatewayError,
    InboundSms,
    OutboundSms,
    OutcomeUnknown,
    RecipientOptedOut,
    SmsGateway,
)
from consentbot.channels.twilio import (
    EMPTY_TWIML,
    INBOUND_PATH,
    STATUS_PATH,
    TwilioGateway,
    twilio_routes,
)
from consentbot.channels.twilio_signature import compute_signature, is_valid_signature
from tests.support.recording import RecordingSleep

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
ServerFactory = Callable[[web.Application], Awaitable[TestServer]]

TOKEN = "test-auth-token"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)

# --- signature -------------------------------------------------------------------------

# The worked example of Twilio's webhook security guide (twilio.com/docs/usage/security),
# as many independent implementations quote it, e.g. TwilioDevEd/api-snippets'
# security/signature_validation samples (same token, URL and parameters, other numbers).
TWILIO_DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}


def test_signature_matches_twilios_published_example() -> None:
    assert compute_signature("12345", TWILIO_DOC_URL, TWILIO_DOC_PARAMS) == (
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )


@pytest.mark.parametrize(
    ("caller", "signature"),
    [
        # twilio-php's docs/usage/validation.rst
        ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        # TwilioDevEd/api-snippets security/signature_validation/signature_validation.2.x.js
        ("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="),
    ],
)
def test_signature_matches_twilio_helper_library_examples(caller: str, signature: str) -> None:
    params = {**TWILIO_DOC_PARAMS, "Caller": caller, "From": caller}
    assert is_valid_signature("12345", TWILIO_DOC_URL, params, signature)


def test_signature_sorts_parameters_and_repeated_values() -> None:
    pairs = [("b", "2"), ("a", "z"), ("a", "y")]
    in_order = [("a", "y"), ("a", "z"), ("b", "2")]
    assert compute_signature(TOKEN, "https://x.test/", pairs) == compute_signature(
        TOKEN, "https://x.test/", in_order
    )
    assert compute_signature(TOKEN, "https://x.test/", pairs) != compute_signature(
        TOKEN, "https://x.test/", [("a", "y"), ("b", "2")]
    )


@pytest.mark.parametrize(
    "signature", [None, "", "0/KCTR6DLpKmkAf8muzZqo1nDgQ", "1/KCTR6DLpKmkAf8muzZqo1nDgQ=", "é"]
)
def test_wrong_or_missing_signatures_are_invalid(signature: str | None) -> None:
    assert not is_valid_signature("12345", TWILIO_DOC_URL, TWILIO_DOC_PARAMS, signature)


def test_signature_covers_url_token_and_params() -> None:
    good = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert is_valid_signature("12345", TWILIO_DOC_URL, TWILIO_DOC_PARAMS, good)
    assert not is_valid_signature("54321", TWILIO_DOC_URL, TWILIO_DOC_PARAMS, good)
    assert not is_valid_signature("12345", TWILIO_DOC_URL + "&baz=3", TWILIO_DOC_PARAMS, good)
    tampered = {**TWILIO_DOC_PARAMS, "Digits": "9999"}
    assert not is_valid_signature("12345", TWILIO_DOC_URL, tampered, good)


# --- webhooks --------------------------------------------------------------------------


@dataclass
class Recorder:
    inbound: list[InboundSms] = field(default_factory=list)
    statuses: list[tuple[str, str, str | None]] = field(default_factory=list)

    async def on_inbound(self, sms: InboundSms) -> None:
        self.inbound.append(sms)

    async def on_status(self, message_id: str, status: str, error_code: str | None) -> None:
        self.statuses.append((message_id, status, error_code))


def webhook_app(
    recorder: Recorder, *, auth_token: str | None = TOKEN, public_url: str | None = None
) -> web.Application:
    app = web.Application()
    app.add_routes(
        twilio_routes(
            on_inbound=recorder.on_inbound,
            on_status=recorder.on_status,
            auth_token=auth_token,
            public_url=public_url,
            now=lambda: NOW,
        )
    )
    return app


INBOUND_FORM = {
    "MessageSid": "SM0123456789abcdef0123456789abcdef",
    "SmsSid": "SM0123456789abcdef0123456789abcdef",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "From": "+447400900123",
    "To": "+447400900999",
    "Body": "YES",
    "NumSegments": "1",
}


def signed(url: str, form: dict[str, str], token: str = TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": compute_signature(token, url, form)}


async def test_inbound_with_a_valid_signature_reaches_the_handler(
    aiohttp_client: ClientFactory,
) -> None:
    recorder = Recorder()
    client = await aiohttp_client(webhook_app(recorder))
    url = str(client.make_url(INBOUND_PATH))
    response = await client.post(INBOUND_PATH, data=INBOUND_FORM, headers=signed(url, INBOUND_FORM))
    assert response.status == 200
    assert response.content_type == "text/xml"
    assert await response.text() == EMPTY_TWIML
    assert recorder.inbound == [
        InboundSms(
            gateway="twilio",
            gateway_message_id="SM0123456789abcdef0123456789abcdef",
            sender="+447400900123",
            recipient="+447400900999",
            text="YES",
            received_at=NOW,
        )
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Twilio-Signature": ""},
        {"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
    ],
    ids=["missing", "empty", "wrong"],
)
async def test_inbound_without_a_valid_signature_is_forbidden(
    aiohttp_client: ClientFactory, headers: dict[str, str]
) -> None:
    recorder = Recorder()
    client = await aiohttp_client(webhook_app(recorder))
    response = await client.post(INBOUND_PATH, data=INBOUND_FORM, headers=headers)
    assert response.status == 403
    assert await response.text() == "invalid signature"
    assert recorder.inbound == []


async def test_inbound_signed_with_another_token_is_forbidden(
    aiohttp_client: ClientFactory,
) -> None:
    recorder = Recorder()
    client = await aiohttp_client(webhook_app(recorder))
    url = str(client.make_url(INBOUND_PATH))
    headers = signed(url, INBOUND_FORM, token="someone-else")
    response = await client.post(INBOUND_PATH, data=INBOUND_FORM, headers=headers)
    assert response.status == 403
    assert recorder.inbound == []


async def test_inbound_with_tampered_body_is_forbidden(aiohttp_client: ClientFactory) -> None:
    recorder = Recorder()
    client = await aiohttp_client(webhook_app(recorder))
    url = str(client.make_url(INBOUND_PATH))
    headers = signed(url, INBOUND_FORM)
    response = await client.post(INBOUND_PATH, data={**INBOUND_FORM, "Body": "NO"}, headers=headers)
    assert response.status == 403
    assert recorder.inbound == []


async def test_signature_is_checked_against_the_public_url(aiohttp_client: ClientFactory) -> None:
    recorder = Recorder()
    app = webhook_app(recorder, public_url="https://consent.example.org/")
    client = await aiohttp_client(app)
    path = INBOUND_PATH + "?site=leeds&tag=a%2Bb"
    public = "https://consent.example.org" + path
    response = await client.post(path, data=INBOUND_FORM, headers=signed(public, INBOUND_FORM))
    assert response.status == 200
    assert len(recorder.inbound) == 1

    # The same request signed over the address the test server really listens on is refused.
    local = str(client.make_url(INBOUND_PATH)) + "?site=leeds&tag=a%2Bb"
    response = await client.post(path, data=INBOUND_FORM, headers=signed(local, INBOUND_FORM))
    assert response.status == 403
    assert len(recorder.inbound) == 1


async def test_inbound_falls_back_to_sms_sid(aiohttp_client: ClientFactory) -> None:
    recorder = Recorder()
    client = await aiohttp_client(webhook_app(recorder))
    form = {k: v for k, v in INBOUND_FORM.items() if k != "MessageSid"}
    url = str(client.make_url(INBOUND_PATH))
    response = await client.post(INBOUND_PATH, data=form, headers=signed(url, form))
    assert response.status == 200
    assert recorder.inbound[0].gateway_message_id == INBOUND_FORM["SmsSid"]


@pytest.mark.parametrize("missing", [("From",), ("MessageSid", "SmsSid")])
async def test_inbound_missing_fields_is_a_bad_request(
    aiohttp_client: ClientFactory, missing: tuple[str, ...]
) -> None:
    recorder = Recorder()
    client = await aiohttp_client(webhook_app(recorder))
    form = {k: v for k, v in INBOUND_FORM.items() if k not in missing}
    url = str(client.make_url(INBOUND_PATH))
    response = await client.post(INBOUND_PATH, data=form, headers=signed(url, form))
    assert response.status == 400
    assert recorder.inbound == []


async def test_inbound_keeps_unicode_text(aiohttp_client: ClientFactory) -> None:
    recorder = Recorder()
    client = await aiohttp_client(webhook_app(recorder))
    form = {**INBOUND_FORM, "Body": "جی ہاں 👍 & more=1"}
    url = str(client.make_url(INBOUND_PATH))
    response = await client.post(INBOUND_PATH, data=form, headers=signed(url, form))
    assert response.status == 200
    assert recorder.inbound[0].text == "جی ہاں 👍 & more=1"


async def test_without_an_auth_token_nothing_is_checked(aiohttp_client: ClientFactory) -> None:
    recorder = Recorder()
    client = await aiohttp_client(webhook_app(recorder, auth_token=None))
    response = await client.post(INBOUND_PATH, data=INBOUND_FORM)
    assert response.status == 200
    assert len(recorder.inbound) == 1


def test_an_empty_auth_token_is_refused() -> None:
    with pytest.raises(ValueError, match="auth_token"):
        webhook_app(Recorder(), auth_token="")


STATUS_FORM = {
    "MessageSid": "SMfedcba9876543210fedcba9876543210",
    "MessageStatus": "undelivered",
    "ErrorCode": "21610",
    "To": "+447400900123",
}


async def test_status_callback_passes_the_error_code_through(
    aiohttp_client: ClientFactory,
) -> None:
    recorder = Recorder()
    client = await aiohttp_client(webhook_app(recorder))
    url = str(client.make_url(STATUS_PATH))
    response = await client.post(STATUS_PATH, data=STATUS_FORM, headers=signed(url, STATUS_FORM))
    assert response.status in (200, 204)
    assert recorder.statuses == [("SMfedcba9876543210fedcba9876543210", "undelivered", "21610")]


async def test_status_callback_without_error_code(aiohttp_client: ClientFactory) -> None:
    recorder = Recorder()
    client = await aiohttp_client(webhook_app(recorder))
    form = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    url = str(client.make_url(STATUS_PATH))
    response = await client.post(STATUS_PATH, data=form, headers=signed(url, form))
    assert response.status in (200, 204)
    assert recorder.statuses == [("SM1", "delivered", None)]


async def test_status_callback_with_a_bad_signature_is_forbidden(
    aiohttp_client: ClientFactory,
) -> None:
    recorder = Recorder()
    client = await aiohttp_client(webhook_app(recorder))
    url = str(client.make_url(INBOUND_PATH))  # signed for the wrong endpoint
    response = await client.post(STATUS_PATH, data=STATUS_FORM, headers=signed(url, STATUS_FORM))
    assert response.status == 403
    assert recorder.statuses == []


async def test_status_callback_missing_fields_is_a_bad_request(
    aiohttp_client: ClientFactory,
) -> None:
    recorder = Recorder()
    client = await aiohttp_client(webhook_app(recorder))
    form = {"MessageSid": "SM1"}
    url = str(client.make_url(STATUS_PATH))
    response = await client.post(STATUS_PATH, data=form, headers=signed(url, form))
    assert response.status == 400
    assert recorder.statuses == []


# --- sending ---------------------------------------------------------------------------

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
API_TOKEN = "rest-api-token"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
OUTBOUND = OutboundSms(
    to="+447400900123", text="Thank you. Reply STOP to opt out.", reference="o-1", ucs2=False
)


Reply = tuple[int, Any, dict[str, str]]
"""A scripted answer: status, JSON payload (or raw text), extra headers."""


@dataclass
class FakeTwilio:
    """A stand-in for Twilio's REST API that answers from a script and records requests."""

    script: list[Reply] = field(default_factory=list)
    requests: list[tuple[str, str | None, dict[str, str]]] = field(default_factory=list)

    async def messages(self, request: web.Request) -> web.Response:
        form = {name: str(value) for name, value in (await request.post()).items()}
        self.requests.append((request.path, request.headers.get("Authorization"), form))
        status, payload, headers = self.script.pop(0)
        body = payload if isinstance(payload, str) else json.dumps(payload)
        return web.Response(
            status=status, text=body, content_type="application/json", headers=headers
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self.messages)
        return app


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def created(sid: str = "SMabc") -> Reply:
    return (201, {"sid": sid, "status": "queued"}, {})


async def gateway_for(
    aiohttp_server: ServerFactory,
    fake: FakeTwilio,
    session: aiohttp.ClientSession,
    **overrides: Any,
) -> tuple[TwilioGateway, RecordingSleep]:
    server = await aiohttp_server(fake.app())
    sleep = RecordingSleep()
    options: dict[str, Any] = {
        "api_base": str(server.make_url("/")),
        "account_sid": ACCOUNT_SID,
        "auth_token": API_TOKEN,
        "sender": "+447400900999",
        "status_callback_url": "https://consent.example.org/sms/twilio/status",
        "sleep": sleep,
        **overrides,
    }
    return TwilioGateway(session, **options), sleep


def test_gateway_keeps_the_sms_gateway_contract(session: aiohttp.ClientSession) -> None:
    gateway: SmsGateway = TwilioGateway(
        session,
        api_base="https://api.twilio.com",
        account_sid=ACCOUNT_SID,
        auth_token=API_TOKEN,
        sender="+447400900999",
        status_callback_url=None,
    )
    assert gateway.name == "twilio"


async def test_send_posts_the_message_with_basic_auth(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    fake = FakeTwilio(script=[created("SM42")])
    gateway, sleep = await gateway_for(aiohttp_server, fake, session)
    assert await gateway.send(OUTBOUND) == "SM42"
    [(path, authorization, form)] = fake.requests
    assert path == MESSAGES_PATH
    expected_auth = base64.b64encode(f"{ACCOUNT_SID}:{API_TOKEN}".encode()).decode()
    assert authorization == f"Basic {expected_auth}"
    assert form == {
        "To": "+447400900123",
        "Body": "Thank you. Reply STOP to opt out.",
        "From": "+447400900999",
        "StatusCallback": "https://consent.example.org/sms/twilio/status",
    }
    assert sleep.delays == []


async def test_send_through_a_messaging_service(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    fake = FakeTwilio(script=[(200, {"sid": "SM7"}, {})])
    gateway, _ = await gateway_for(
        aiohttp_server,
        fake,
        session,
        sender="MG0123456789abcdef0123456789abcdef",
        status_callback_url=None,
    )
    text = "آپ کا شکریہ"
    assert (
        await gateway.send(OutboundSms(to="+923001234567", text=text, reference="o-2", ucs2=True))
        == "SM7"
    )
    [(_, _, form)] = fake.requests
    assert form == {
        "To": "+923001234567",
        "Body": text,
        "MessagingServiceSid": "MG0123456789abcdef0123456789abcdef",
    }


async def test_send_retries_rate_limits_with_backoff(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    too_many: Reply = (429, {"code": 20429, "message": "Too Many Requests"}, {})
    fake = FakeTwilio(script=[too_many, too_many, created("SM9")])
    gateway, sleep = await gateway_for(aiohttp_server, fake, session)
    assert await gateway.send(OUTBOUND) == "SM9"
    assert len(fake.requests) == 3
    assert sleep.delays == [0.5, 1.0]


async def test_send_honours_retry_after_up_to_the_cap(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    fake = FakeTwilio(
        script=[
            (429, {"code": 20429}, {"Retry-After": "3"}),
            (503, "Service Unavailable", {"Retry-After": "120"}),
            (503, "Service Unavailable", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
            created(),
        ]
    )
    gateway, sleep = await gateway_for(aiohttp_server, fake, session)
    assert await gateway.send(OUTBOUND) == "SMabc"
    assert sleep.delays == [3.0, 30.0, 2.0]


async def test_send_gives_up_after_max_attempts_of_server_errors(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    fake = FakeTwilio(script=[(500, {"code": 20500}, {})] * 4)
    gateway, sleep = await gateway_for(aiohttp_server, fake, session, max_attempts=4)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(OUTBOUND)
    assert caught.value.retryable
    assert not isinstance(caught.value, RecipientOptedOut)
    assert len(fake.requests) == 4
    assert sleep.delays == [0.5, 1.0, 2.0]


async def test_send_retries_connection_failures(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the gateway connects
    sleep = RecordingSleep()
    gateway = TwilioGateway(
        session,
        api_base=f"http://127.0.0.1:{port}",
        account_sid=ACCOUNT_SID,
        auth_token=API_TOKEN,
        sender="+447400900999",
        status_callback_url=None,
        max_attempts=3,
        backoff_base=0.25,
        sleep=sleep,
    )
    with pytest.raises(GatewayError) as caught:
        await gateway.send(OUTBOUND)
    assert caught.value.retryable
    assert sleep.delays == [0.25, 0.5]


async def test_send_never_retries_once_twilio_may_have_the_message(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    """The connection drops after Twilio read the request: it may have sent the SMS."""
    requests: list[str] = []

    async def take_and_drop(request: web.Request) -> web.Response:
        requests.append(str((await request.post())["Body"]))
        assert request.transport is not None
        request.transport.abort()
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", take_and_drop)
    server = await aiohttp_server(app)
    sleep = RecordingSleep()
    gateway = TwilioGateway(
        session,
        api_base=str(server.make_url("/")),
        account_sid=ACCOUNT_SID,
        auth_token=API_TOKEN,
        sender="+447700900999",
        status_callback_url=None,
        sleep=sleep,
    )
    with pytest.raises(OutcomeUnknown) as caught:
        await gateway.send(OUTBOUND)
    assert not caught.value.retryable
    assert requests == [OUTBOUND.text]
    assert sleep.delays == []


async def test_send_reports_a_carrier_opt_out(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    opted_out = {
        "code": 21610,
        "message": "Attempt to send to unsubscribed recipient",
        "more_info": "https://www.twilio.com/docs/errors/21610",
        "status": 400,
    }
    fake = FakeTwilio(script=[(400, opted_out, {})])
    gateway, sleep = await gateway_for(aiohttp_server, fake, session)
    with pytest.raises(RecipientOptedOut) as caught:
        await gateway.send(OUTBOUND)
    assert caught.value.code == "21610"
    assert not caught.value.retryable
    assert len(fake.requests) == 1
    assert sleep.delays == []


async def test_send_reports_other_rejections_as_final(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    invalid_to = {
        "code": 21211,
        "message": "The 'To' number +447400900123 is not a valid phone number.",
        "status": 400,
    }
    fake = FakeTwilio(script=[(400, invalid_to, {})])
    gateway, _ = await gateway_for(aiohttp_server, fake, session)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(OUTBOUND)
    assert not isinstance(caught.value, RecipientOptedOut)
    assert not caught.value.retryable
    assert caught.value.code == "21211"
    assert "+447400900123" not in str(caught.value)
    assert len(fake.requests) == 1


async def test_send_rejection_without_json_has_no_code(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    fake = FakeTwilio(script=[(404, "<html>not found</html>", {})])
    gateway, _ = await gateway_for(aiohttp_server, fake, session)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(OUTBOUND)
    assert not caught.value.retryable
    assert caught.value.code is None


async def test_send_does_not_retry_an_accepted_message_without_sid(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    fake = FakeTwilio(script=[(201, "not json", {}), created()])
    gateway, _ = await gateway_for(aiohttp_server, fake, session)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(OUTBOUND)
    assert not caught.value.retryable
    assert len(fake.requests) == 1
