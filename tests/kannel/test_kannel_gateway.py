"""KannelGateway and kannel_routes: unit tests, and end to end through a real Kannel.

The end-to-end tests (``@pytest.mark.kannel``) run bearerbox, smsbox and fakesmsc
(see harness.py) around a small echo service: its inbound handler, mounted with
:func:`kannel_routes`, answers every MO with ``"echo: " + text`` through
:class:`KannelGateway` and smsbox's sendsms. ``repeat N text`` answers with the
text N times, for long replies in UCS-2 (an MO line to fakesmsc is short).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from consentbot.channels.gateway import GatewayError, InboundSms, OutboundSms, OutcomeUnknown
from consentbot.channels.kannel import (
    INBOUND_PATH,
    STATUS_PATH,
    KannelGateway,
    decode_kannel_text,
    kannel_routes,
    status_url,
)
from consentbot.testkit.ports import free_port
from tests.support.kannel_fake import FakeSendsms

from .harness import KannelHarness, require_kannel

FIXED_NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TOKEN = "s3cret-token"
URDU = "ہاں"
POLISH = "Zażółć gęślą jaźń"

# GSM 03.38 default alphabet and extension table: the echo service sends any
# other text as UCS-2 (the real service decides this in consentbot.domain.sms_segments).
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    "\f^{}\\[~]|€"
)


def needs_ucs2(text: str) -> bool:
    return not all(ch in _GSM7 for ch in text)


# --------------------------------------------------------------------------
# KannelGateway.send against a fake sendsms


@pytest.fixture
def fake_sendsms() -> FakeSendsms:
    return FakeSendsms()


@pytest_asyncio.fixture
async def sendsms_url(
    fake_sendsms: FakeSendsms,
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> str:
    server = await aiohttp_server(fake_sendsms.app())
    return FakeSendsms.url(server)


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def make_gateway(
    session: aiohttp.ClientSession,
    url: str,
    *,
    sender: str | None = "12345",
    dlr_url: str | None = None,
    timeout: float = 30.0,
) -> KannelGateway:
    return KannelGateway(
        session,
        sendsms_url=url,
        username="bot",
        password="pw&?=+",
        sender=sender,
        dlr_url=dlr_url,
        timeout=timeout,
    )


async def test_send_gsm_query(
    session: aiohttp.ClientSession, sendsms_url: str, fake_sendsms: FakeSendsms
) -> None:
    gateway = make_gateway(session, sendsms_url)
    text = "Yes  & no: 50% + 1 = ?"
    ref = await gateway.send(
        OutboundSms(to="+48600111222", text=text, reference="ob-1", ucs2=False)
    )
    assert ref == "ob-1"
    assert gateway.name == "kannel"
    assert fake_sendsms.queries == [
        {
            "username": "bot",
            "password": "pw&?=+",
            "to": "+48600111222",
            "text": text,
            "from": "12345",
            "charset": "UTF-8",
        }
    ]


@pytest.mark.parametrize("text", [URDU, POLISH])
async def test_send_ucs2_sets_coding(
    session: aiohttp.ClientSession, sendsms_url: str, fake_sendsms: FakeSendsms, text: str
) -> None:
    gateway = make_gateway(session, sendsms_url)
    await gateway.send(OutboundSms(to="48600111222", text=text, reference="ob-2", ucs2=True))
    (query,) = fake_sendsms.queries
    assert query["coding"] == "2"
    assert query["charset"] == "UTF-8"
    assert query["text"] == text


async def test_send_without_sender_omits_from(
    session: aiohttp.ClientSession, sendsms_url: str, fake_sendsms: FakeSendsms
) -> None:
    gateway = make_gateway(session, sendsms_url, sender=None)
    await gateway.send(OutboundSms(to="1", text="x", reference="ob-3", ucs2=False))
    assert "from" not in fake_sendsms.queries[0]
    assert "coding" not in fake_sendsms.queries[0]
    assert "dlr-url" not in fake_sendsms.queries[0]


async def test_send_dlr_url_carries_reference(
    session: aiohttp.ClientSession, sendsms_url: str, fake_sendsms: FakeSendsms
) -> None:
    gateway = make_gateway(
        session, sendsms_url, dlr_url="http://bot.example/dlr?ref={reference}&type=%d"
    )
    await gateway.send(OutboundSms(to="1", text="x", reference="ob 4/ą", ucs2=False))
    query = fake_sendsms.queries[0]
    assert query["dlr-mask"] == "27"
    assert query["dlr-url"] == "http://bot.example/dlr?ref=ob%204%2F%C4%85&type=%d"


async def test_send_queued_is_success(
    session: aiohttp.ClientSession, sendsms_url: str, fake_sendsms: FakeSendsms
) -> None:
    fake_sendsms.body = "3: Queued for later delivery"
    gateway = make_gateway(session, sendsms_url)
    assert await gateway.send(OutboundSms("1", "x", "ob-5", False)) == "ob-5"


@pytest.mark.parametrize(
    ("status", "body", "retryable"),
    [
        (403, "Authorization failed for sendsms", False),
        (400, "Sender missing and no global set, rejected", False),
        (503, "Temporal failure, try again later.", True),
        (500, "oops", True),
        (429, "slow down", True),
    ],
)
async def test_send_http_errors(
    session: aiohttp.ClientSession,
    sendsms_url: str,
    fake_sendsms: FakeSendsms,
    status: int,
    body: str,
    retryable: bool,
) -> None:
    fake_sendsms.status, fake_sendsms.body = status, body
    gateway = make_gateway(session, sendsms_url)
    with pytest.raises(GatewayError) as info:
        await gateway.send(OutboundSms("1", "x", "ob-6", False))
    assert info.value.retryable is retryable
    assert info.value.code == str(status)
    assert body in str(info.value)
    assert "pw&?=+" not in str(info.value)


async def test_send_connection_refused_is_retryable(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago; nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/cgi-bin/sendsms"
    gateway = make_gateway(session, url)
    with pytest.raises(GatewayError) as info:
        await gateway.send(OutboundSms("1", "x", "ob-7", False))
    assert info.value.retryable is True


async def test_a_timeout_after_the_request_went_is_never_retried(
    session: aiohttp.ClientSession, sendsms_url: str, fake_sendsms: FakeSendsms
) -> None:
    """smsbox may have queued the message before its answer was lost: a retry could text
    the person twice, so the outcome is unknown and the outbox never resends it."""
    fake_sendsms.delay = 2
    gateway = make_gateway(session, sendsms_url, timeout=0.2)
    with pytest.raises(OutcomeUnknown) as info:
        await gateway.send(OutboundSms("1", "x", "ob-8", False))
    assert info.value.retryable is False


async def test_an_unreachable_smsbox_is_retried(session: aiohttp.ClientSession) -> None:
    gateway = make_gateway(session, f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms", timeout=2)
    with pytest.raises(GatewayError) as info:
        await gateway.send(OutboundSms("1", "x", "ob-9", False))
    assert not isinstance(info.value, OutcomeUnknown)
    assert info.value.retryable is True


# --------------------------------------------------------------------------
# kannel_routes


@dataclass
class Recorder:
    received: list[InboundSms] = field(default_factory=list)

    async def __call__(self, sms: InboundSms) -> None:
        self.received.append(sms)


def routes_app(recorder: Recorder, token: str = TOKEN) -> web.Application:
    app = web.Application()
    app.add_routes(kannel_routes(on_inbound=recorder, token=token, now=lambda: FIXED_NOW))
    return app


@pytest_asyncio.fixture
async def recorder_client(
    aiohttp_client: Callable[
        [web.Application], Awaitable[TestClient[web.Request, web.Application]]
    ],
) -> tuple[Recorder, TestClient[web.Request, web.Application]]:
    recorder = Recorder()
    return recorder, await aiohttp_client(routes_app(recorder))


def raw(query: str) -> URL:
    """A path and query sent exactly as written (as Kannel's %b writes it)."""
    return URL(f"{INBOUND_PATH}?{query}", encoded=True)


async def test_inbound_gsm(
    recorder_client: tuple[Recorder, TestClient[web.Request, web.Application]],
) -> None:
    recorder, client = recorder_client
    query = (
        f"token={TOKEN}&from=%2B48600111222&to=12345&id=4232e2c7&coding=0&charset=UTF-8"
        "&text=Hello++world+%C3%A9%2B%26%25%3D"
    )
    response = await client.get(raw(query))
    assert response.status == 200
    assert await response.read() == b""
    assert recorder.received == [
        InboundSms(
            gateway="kannel",
            gateway_message_id="4232e2c7",
            sender="+48600111222",
            recipient="12345",
            text="Hello  world é+&%=",
            received_at=FIXED_NOW,
        )
    ]


@pytest.mark.parametrize(
    ("query_text", "expected"),
    [
        ("%06%C1%06'%06%BA", URDU),
        (
            "%00Z%00a%01%7C%00%F3%01B%01%07%00+%00g%01%19%01%5B%00l%01%05%00+%00j%00a%01z%01D",
            POLISH,
        ),
    ],
)
async def test_inbound_ucs2(
    recorder_client: tuple[Recorder, TestClient[web.Request, web.Application]],
    query_text: str,
    expected: str,
) -> None:
    recorder, client = recorder_client
    query = (
        f"token={TOKEN}&from=48600111222&to=12345&id=x1&coding=2&charset=UTF-16BE&text={query_text}"
    )
    response = await client.post(raw(query))
    assert response.status == 200
    assert recorder.received[0].text == expected


@pytest.mark.parametrize(
    "query",
    [
        f"token={TOKEN}&to=12345&id=abc&text=hi",
        f"token={TOKEN}&from=&to=12345&id=abc&text=hi",
        f"token={TOKEN}&from=48600111222&to=12345&text=hi",
    ],
)
async def test_inbound_missing_params_is_400(
    recorder_client: tuple[Recorder, TestClient[web.Request, web.Application]], query: str
) -> None:
    recorder, client = recorder_client
    response = await client.get(raw(query))
    assert response.status == 400
    assert recorder.received == []


@pytest.mark.parametrize("token_part", ["", "token=", "token=wrong", f"token={TOKEN}x"])
async def test_inbound_bad_token_is_403(
    recorder_client: tuple[Recorder, TestClient[web.Request, web.Application]], token_part: str
) -> None:
    recorder, client = recorder_client
    response = await client.get(raw(f"{token_part}&from=1&to=2&id=3&text=hi"))
    assert response.status == 403
    assert recorder.received == []


def test_routes_refuse_to_exist_without_a_token() -> None:
    """An empty shared secret would let any request act as any number."""
    with pytest.raises(ValueError, match="token must not be empty"):
        kannel_routes(on_inbound=Recorder(), token="", now=lambda: FIXED_NOW)


async def test_status_route_without_the_token_is_403_and_reports_nothing(
    aiohttp_client: Callable[
        [web.Application], Awaitable[TestClient[web.Request, web.Application]]
    ],
) -> None:
    reports: list[str] = []

    async def on_status(reference: str, status: str, code: str | None) -> None:
        reports.append(reference)

    app = web.Application()
    app.add_routes(
        kannel_routes(
            on_inbound=Recorder(), token=TOKEN, now=lambda: FIXED_NOW, on_status=on_status
        )
    )
    client = await aiohttp_client(app)
    for query in ("ref=abc&type=1", "token=&ref=abc&type=1", f"token={TOKEN}x&ref=abc&type=1"):
        response = await client.get(URL(f"{STATUS_PATH}?{query}", encoded=True))
        assert response.status == 403
    assert reports == []


@pytest.mark.parametrize(
    ("data", "coding", "charset", "expected"),
    [
        ("ہاں".encode("utf-16-be"), "2", None, "ہاں"),
        ("ہاں".encode("utf-16-be"), "2", "UCS-2", "ہاں"),
        ("ąę".encode(), "0", "UTF-8", "ąę"),
        ("ąę".encode(), None, None, "ąę"),
        ("ą".encode("iso-8859-2"), "0", "ISO-8859-2", "ą"),
        (b"\xff", "0", "UTF-8", "\ufffd"),
        (b"\x06", "2", "UTF-16BE", "\ufffd"),
        (b"abc", "1", "8-BIT", "abc"),
    ],
)
def test_decode_kannel_text(
    data: bytes, coding: str | None, charset: str | None, expected: str
) -> None:
    assert decode_kannel_text(data, coding, charset) == expected


# --------------------------------------------------------------------------
# End to end through bearerbox, smsbox and fakesmsc


@dataclass
class EchoService:
    """The service under test: records every MO and echoes it back through Kannel."""

    gateway: KannelGateway | None = None
    received: list[InboundSms] = field(default_factory=list)
    sent_ids: list[str] = field(default_factory=list)

    async def on_inbound(self, sms: InboundSms) -> None:
        self.received.append(sms)
        text = sms.text
        words = text.split(" ", 2)
        if len(words) == 3 and words[0] == "repeat" and words[1].isdigit():
            text = " ".join([words[2]] * int(words[1]))
        reply = "echo: " + text
        assert self.gateway is not None
        self.sent_ids.append(
            await self.gateway.send(
                OutboundSms(
                    to=sms.sender,
                    text=reply,
                    reference=f"ob-{len(self.sent_ids)}",
                    ucs2=needs_ucs2(reply),
                )
            )
        )

    def from_phone(self, phone: str) -> list[InboundSms]:
        return [sms for sms in self.received if sms.sender == phone]


@dataclass
class EchoSetup:
    service: EchoService
    kannel: KannelHarness
    port: int


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def echo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EchoSetup]:
    require_kannel()
    service = EchoService()
    app = web.Application()
    app.add_routes(
        kannel_routes(on_inbound=service.on_inbound, token=TOKEN, now=lambda: datetime.now(UTC))
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            kannel = KannelHarness(
                service_host="127.0.0.1",
                service_port=port,
                workdir=tmp_path_factory.mktemp("kannel"),
                token=TOKEN,
            )
            service.gateway = KannelGateway(
                session,
                sendsms_url=kannel.sendsms_url,
                username=kannel.username,
                password=kannel.password,
                sender=kannel.shortcode,
            )
            async with kannel:
                yield EchoSetup(service, kannel, port)
    finally:
        await runner.cleanup()


@pytest.mark.kannel
@pytest.mark.asyncio(loop_scope="module")
async def test_e2e_gsm_round_trip(echo: EchoSetup) -> None:
    phone = "+48600111201"
    text = "Yes  I agree & 50% + more = ok? é€"
    await echo.kannel.send_from_phone(phone, text)
    mt = await echo.kannel.next_mt(phone)
    assert mt.text == f"echo: {text}"
    assert mt.coding == "gsm"
    assert (mt.sender, mt.receiver, mt.parts) == (echo.kannel.shortcode, phone, 1)
    (sms,) = echo.service.from_phone(phone)
    assert sms.text == text
    assert sms.recipient == echo.kannel.shortcode
    assert sms.gateway == "kannel"
    uuid.UUID(sms.gateway_message_id)  # Kannel's %I


@pytest.mark.kannel
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("phone", "text"),
    [
        ("+923001234567", URDU),
        ("+923001234568", "جی ہاں، میں متفق ہوں"),
        ("+48600111202", POLISH),
        # U+0A20 is bytes 0A 20, U+2009 is 20 09 in UTF-16BE: whitespace bytes that
        # Kannel's %a would split and collapse; %b keeps them.
        ("+911234500001", "ਠ\u2009ਠ  ਠ"),
    ],
)
async def test_e2e_ucs2_round_trip(echo: EchoSetup, phone: str, text: str) -> None:
    await echo.kannel.send_from_phone(phone, text, ucs2=True)
    mt = await echo.kannel.next_mt(phone)
    assert mt.text == f"echo: {text}"
    assert mt.coding == "ucs2"
    assert mt.parts == 1
    (sms,) = echo.service.from_phone(phone)
    assert sms.text == text


@pytest.mark.kannel
@pytest.mark.asyncio(loop_scope="module")
async def test_e2e_long_gsm_reply_arrives_complete(echo: EchoSetup) -> None:
    phone = "+48600111203"
    text = " ".join(f"word{i:03d}" for i in range(24))  # 191 characters
    await echo.kannel.send_from_phone(phone, text)
    mt = await echo.kannel.next_mt(phone)
    assert mt.text == f"echo: {text}"
    assert len(mt.text) > 160
    assert mt.parts == 2
    assert mt.coding == "gsm"


@pytest.mark.kannel
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("phone", "text", "times"), [("+48600111204", POLISH, 12), ("+923001234569", URDU, 20)]
)
async def test_e2e_long_ucs2_reply_arrives_complete(
    echo: EchoSetup, phone: str, text: str, times: int
) -> None:
    await echo.kannel.send_from_phone(phone, f"repeat {times} {text}", ucs2=True)
    mt = await echo.kannel.next_mt(phone)
    expected = "echo: " + " ".join([text] * times)
    assert len(expected) > 70
    assert mt.text == expected
    assert mt.coding == "ucs2"
    assert mt.parts == -(-len(expected) // 67)


@pytest.mark.kannel
@pytest.mark.asyncio(loop_scope="module")
async def test_e2e_token_mismatch_is_403_and_nothing_forwarded(
    echo: EchoSetup, tmp_path: Path
) -> None:
    phone = "+48600111299"
    wrong = KannelHarness(
        service_host="127.0.0.1",
        service_port=echo.port,
        workdir=tmp_path / "kannel-wrong-token",
        token="not-the-token",
    )
    async with wrong:
        await wrong.send_from_phone(phone, "hello")
        # smsbox logs the get-url's answer, then decides about a reply at once.
        line = await wrong.wait_for_log("smsbox-access.log", "reply: 403")
        # max-messages = 0: Kannel texts nothing back (not even its "could not fetch").
        with pytest.raises(TimeoutError):
            await wrong.next_mt(phone, timeout=1)
    assert echo.service.from_phone(phone) == []
    assert "token=not-the-token" in line
    assert line.endswith("reply: 403 'forbidden'")


async def test_status_route_maps_delivery_reports(
    aiohttp_client: Callable[..., Awaitable[TestClient[web.Request, web.Application]]],
) -> None:
    """Kannel's %d types become statuses; the token is checked; junk is refused."""
    reports: list[tuple[str, str, str | None]] = []

    async def on_status(reference: str, status: str, code: str | None) -> None:
        reports.append((reference, status, code))

    async def on_inbound(message: InboundSms) -> None:
        raise AssertionError("no inbound expected")

    app = web.Application()
    app.router.add_routes(
        kannel_routes(
            on_inbound=on_inbound,
            token="s3cret",
            now=lambda: datetime.now(UTC),
            on_status=on_status,
        )
    )
    client = await aiohttp_client(app)
    url = status_url(STATUS_PATH, "s3cret").replace("{reference}", "42")
    assert (await client.get(url.replace("%d", "1"))).status == 200
    assert (await client.get(url.replace("%d", "16"))).status == 200
    assert (await client.get(url.replace("%d", "99"))).status == 400
    assert (await client.get(url.replace("s3cret", "wrong").replace("%d", "1"))).status == 403
    assert reports == [("42", "delivered", None), ("42", "rejected", None)]
