"""The whole consent journey through a real Kannel (bearerbox, smsbox, fakesmsc), on both databases.

The service is the real app from ``create_app`` configured for Kannel
(``sms_gateway="kannel"``), served on a real TCP port on 127.0.0.1 so smsbox can
call its ``/sms/kannel/inbound`` get-url; it sends through smsbox's sendsms. A
phone (fakesmsc, see harness.py) goes from the research system's invitation to
CONFIRM and WITHDRAW, in English and Polish, and the consent API is checked at
every step: the journey every gateway runs (tests/support/consent_journey.py), with
Kannel's own checks on what reached the phone afterwards.

Waiting and settling
--------------------
The app runs with ``run_background=False`` and the test drives its loops with
``settle(app)`` (due timers, then the outbox), exactly as the Twilio journey does.
Nothing in the test waits for a fixed time; it waits for events:

1. **The MO has been handled.** ``KannelPhone.send`` writes the MO to fakesmsc and
   then waits for the service's *answer to Kannel's get-url* for that sender: an
   ``on_response_prepare`` hook (added before the server starts) counts the
   answers on the inbound path per ``from``. The handler answers only after
   ``InboundService.handle`` committed the turn, and the commit holds the ledger
   change, the state and the queued reply together, so when the answer exists
   the reply is in the outbox. The answer must be 200. (Kannel retries nothing:
   ``http-request-retry = 0``.)
2. **Settle.** ``settle(app)`` runs due timers and dispatches every due outbox
   message; ``KannelGateway.send`` returns once smsbox accepted each message (202).
   The ManualClock only moves when the test moves it, and the scheduler and
   dispatcher only run inside ``settle``, so reminders come exactly when the test
   advances the clock past cooling-off and settles.
3. **What reached the phone.** ``KannelPhone.receive`` reads the outbox rows the
   service marked "sent" to this number since the last read, and takes exactly
   that many MTs from fakesmsc (``next_mt``: event-driven, 10 s cap only as a
   failure bound). Each MT must equal its outbox body *exactly* (line breaks, UCS-2,
   concatenated parts joined), in the coding and number of parts the service
   planned. An extra, unexpected MT would show up as a mismatch at the next read,
   and at the end the phone must have nothing left.
"""

from __future__ import annotations

import asyncio
import socket
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, get_port_socket

from consentbot import keys
from consentbot.app import create_app
from consentbot.channels.gateway import InboundSms, OutboundSms
from consentbot.channels.kannel import INBOUND_PATH, STATUS_PATH, KannelGateway, kannel_routes
from consentbot.domain.sms_segments import is_gsm7
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.contacts import ContactRepository
from consentbot.store.outbox import OutboxRepository
from consentbot.store.tables import OutboxMessage
from tests.conftest import AppClient, settle
from tests.support.consent_journey import consent_journey, study_in
from tests.support.journey import ResearchSystem
from tests.support.outbox import same_message

from .harness import KannelHarness, MtMessage, require_kannel

pytestmark = pytest.mark.kannel

INBOUND_TOKEN = "journey-inbound-token-0123456789"
HANDLED_WAIT = 10.0
"""Upper bound for an MO to reach the service through fakesmsc, bearerbox and smsbox."""


class InboundAnswers:
    """The service's answers to Kannel's get-url, per sender, in order."""

    def __init__(self) -> None:
        self.statuses: defaultdict[str, list[int]] = defaultdict(list)
        self._changed = asyncio.Event()

    async def on_response_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        if request.path == INBOUND_PATH:
            self.statuses[request.query.get("from", "")].append(response.status)
            self._changed.set()

    async def wait(self, sender: str, count: int, timeout: float) -> list[int]:  # noqa: ASYNC109
        """The statuses of the first ``count`` answers for ``sender``, once there are that many."""
        async with asyncio.timeout(timeout):
            while len(self.statuses[sender]) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.statuses[sender]


@dataclass
class KannelService:
    """consentbot configured for Kannel, on a real port, and the Kannel in front of it."""

    client: AppClient
    kannel: KannelHarness
    answers: InboundAnswers

    @property
    def app(self) -> web.Application:
        return self.client.app


@pytest.fixture
async def service(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> AsyncIterator[KannelService]:
    require_kannel()
    # Bind the service's socket first: Kannel's config needs its port, and the app
    # needs Kannel's sendsms URL. Handing the bound socket to the server leaves no
    # window in which another process could take the port.
    sock = get_port_socket("127.0.0.1", 0, socket.AF_INET)
    port: int = sock.getsockname()[1]
    kannel = KannelHarness(
        service_host="127.0.0.1",
        service_port=port,
        workdir=tmp_path / "kannel",
        token=INBOUND_TOKEN,
    )
    app = create_app(
        settings.with_(
            sms_gateway="kannel",
            kannel_sendsms_url=kannel.sendsms_url,
            kannel_username=kannel.username,
            kannel_password=kannel.password,
            kannel_from=kannel.shortcode,
            kannel_inbound_token=INBOUND_TOKEN,
            kannel_status_url=f"http://127.0.0.1:{port}{STATUS_PATH}",
            # The Polish journey texts a Polish mobile: a service must say so to text one.
            sms_regions=("GB", "PL"),
        ),
        clock=clock,
        run_background=False,
    )
    answers = InboundAnswers()
    app.on_response_prepare.append(answers.on_response_prepare)
    server = TestServer(app, host="127.0.0.1", port=port, socket_factory=lambda *_: sock)
    client: AppClient = TestClient(server)
    try:
        await client.start_server()
        async with kannel:
            yield KannelService(client, kannel, answers)
            assert kannel.unparsed == [], kannel.log_tails()
    finally:
        await client.close()
        sock.close()


async def sent_to(app: web.Application, number: str) -> list[OutboxMessage]:
    """The outbox rows the service has sent to ``number``, oldest first."""
    async with app[keys.DATABASE].transaction() as session:
        contact = await ContactRepository(session, app[keys.DISPATCHER].vault).find(number)
        if contact is None or contact.id is None:
            return []
        messages = await OutboxRepository(session).for_contact(contact.id)
    assert [m.status for m in messages if m.status not in ("sent", "pending")] == []
    return [m for m in messages if m.status == "sent"]


class KannelPhone:
    """One patient's phone, played by fakesmsc."""

    def __init__(self, service: KannelService, number: str) -> None:
        self.service = service
        self.number = number
        self.read = 0
        self.received: list[MtMessage] = []
        self.reordered = 0
        """Reads in which the phone got the messages in another order than queued."""

    async def send(self, text: str) -> None:
        """Text ``text`` (GSM if it can go as GSM, else UCS-2); return once the service
        has handled it (its reply, if any, is then in the outbox)."""
        answers, kannel = self.service.answers, self.service.kannel
        before = len(answers.statuses[self.number])
        await kannel.send_from_phone(self.number, text, ucs2=not is_gsm7(text))
        try:
            statuses = await answers.wait(self.number, before + 1, HANDLED_WAIT)
        except TimeoutError:
            pytest.fail(
                f"the service did not answer Kannel's get-url for {text!r} from {self.number} "
                f"within {HANDLED_WAIT} s\n{kannel.log_tails()}"
            )
        assert statuses[before:] == [200], kannel.log_tails()

    async def receive(self) -> list[str]:
        """The messages sent since the last read, in the order the service queued them.

        Each must have reached the phone exactly (parts joined), in the coding and
        number of parts the service planned. The arrival order of one turn's
        messages is not compared: the dispatcher hands a batch to the gateway
        concurrently (``asyncio.gather``), so nothing promises it.
        """
        kannel = self.service.kannel
        sent = (await sent_to(self.service.app, self.number))[self.read :]
        self.read += len(sent)
        got = [await kannel.next_mt(self.number) for _ in sent]
        self.received.extend(got)
        # A stored body keeps a personal link redacted: match each with what arrived.
        unmatched = list(got)
        in_order: list[MtMessage] = []
        for message in sent:
            mt = next((mt for mt in unmatched if same_message(message.body, mt.text)), None)
            assert mt is not None, f"nothing received matches {message.body!r}: {unmatched!r}"
            unmatched.remove(mt)
            in_order.append(mt)
            assert (mt.coding, mt.parts) == ("ucs2" if message.ucs2 else "gsm", message.segments)
            assert (mt.sender, mt.receiver) == (kannel.shortcode, self.number)
        self.reordered += got != in_order
        return [mt.text for mt in in_order]

    async def text(self) -> str:
        """Everything received since the last read, as one text (long replies come in parts)."""
        return "\n".join(await self.receive())

    async def assert_nothing_more(self) -> None:
        try:
            mt = await self.service.kannel.next_mt(self.number, timeout=0.5)
        except TimeoutError:
            return
        pytest.fail(f"unexpected MT: {mt!r}")


# Both languages on SQLite; on PostgreSQL only Polish (UCS-2 text, a foreign number): the
# SQL is the same whatever the language, and each run starts real Kannel processes.
@pytest.mark.parametrize(
    ("database_url", "language", "number", "as_invited"),
    [
        pytest.param("sqlite", "en", "+447400900201", "07400 900201", id="sqlite-en"),
        pytest.param("sqlite", "pl", "+48600111301", "+48 600 111 301", id="sqlite-pl"),
        pytest.param(
            "postgres", "pl", "+48600111301", "+48 600 111 301", id="postgres-pl", marks=pytest.mark.postgres
        ),
    ],
    indirect=["database_url"],
)
async def test_invitation_to_confirm_to_withdraw(
    service: KannelService, clock: ManualClock, language: str, number: str, as_invited: str
) -> None:
    text = study_in(service.client).text(language)
    phone = KannelPhone(service, number)
    await consent_journey(
        service.client, clock, phone, language=language, gateway="kannel", invite_as=as_invited
    )

    # Every reply went out, none twice, and Polish ones as UCS-2 where they need it.
    await settle(service.app)
    await phone.assert_nothing_more()
    assert phone.read == len(phone.received)
    if language == "pl" and not is_gsm7(text.summary):
        assert any(mt.coding == "ucs2" for mt in phone.received)
    assert any(mt.parts > 1 for mt in phone.received)
    assert any("\n" in mt.text for mt in phone.received)


# --------------------------------------------------------------------------
# The harness itself: multi-line replies come back exactly


REPLIES: dict[str, str] = {
    "gsm": "Line one\nLine two\n\nLine four: 50% + more = ok? é€ <x> {y}",
    "gsm-trailing": "Ends with a line break\n",
    "gsm-leading": "\n\nStarts with two line breaks",
    "gsm-lookalike": "12345 +48600111401 text not a header\nGot message 9: <nor this>\n",
    "ucs2": "Zażółć\ngęślą\n\njaźń",
    "gsm-long": "\n".join(f"line {i:03d} of a long multi-line GSM reply" for i in range(8)),
    "ucs2-long": "\n".join(f"wiersz {i} zażółć gęślą jaźń" for i in range(8)),
}


async def test_harness_returns_multiline_replies_exactly(tmp_path: Path) -> None:
    """Line breaks in single-part GSM text split fakesmsc's protocol lines; the harness
    rejoins them (see harness.py); UCS-2 and concatenated replies never split."""
    require_kannel()
    sock = get_port_socket("127.0.0.1", 0, socket.AF_INET)
    port: int = sock.getsockname()[1]
    kannel = KannelHarness(
        service_host="127.0.0.1", service_port=port, workdir=tmp_path / "kannel", token="t"
    )
    phone = "+48600111401"
    gateways: list[KannelGateway] = []

    async def on_inbound(sms: InboundSms) -> None:
        reply = REPLIES[sms.text]
        await gateways[0].send(
            OutboundSms(to=sms.sender, text=reply, reference=sms.text, ucs2=not is_gsm7(reply))
        )

    app = web.Application()
    app.add_routes(kannel_routes(on_inbound=on_inbound, token="t", now=lambda: datetime.now(UTC)))
    server = TestServer(app, host="127.0.0.1", port=port, socket_factory=lambda *_: sock)
    try:
        await server.start_server()
        async with kannel, aiohttp.ClientSession() as session:
            gateways.append(
                KannelGateway(
                    session,
                    sendsms_url=kannel.sendsms_url,
                    username=kannel.username,
                    password=kannel.password,
                    sender=kannel.shortcode,
                )
            )
            # Back to back, so several MTs can sit in fakesmsc's socket at once.
            for key in REPLIES:
                await kannel.send_from_phone(phone, key)
            got = {}
            for _ in REPLIES:
                mt = await kannel.next_mt(phone)
                got[mt.text] = mt
            assert kannel.unparsed == []
    finally:
        await server.close()
        sock.close()
    assert sorted(got) == sorted(REPLIES.values())
    assert got[REPLIES["gsm"]].coding == "gsm"
    assert got[REPLIES["ucs2"]].coding == "ucs2"
    assert got[REPLIES["gsm-long"]].parts == 3
    assert got[REPLIES["ucs2-long"]].parts == 4


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_kannel_delivery_reports_reach_the_outbox(service: KannelService) -> None:
    """Kannel calls the dlr-url with type 8 once the SMSC (fakesmsc) accepted the message."""
    research = await ResearchSystem.register(service.client)
    await research.invite("+447400900901", "K-DLR")
    await settle(service.app)
    (message,) = await sent_to(service.app, "+447400900901")
    await service.kannel.next_mt("+447400900901")
    async with asyncio.timeout(HANDLED_WAIT):
        while True:
            async with service.app[keys.DATABASE].read() as session:
                stored = await session.get(OutboxMessage, message.id)
            assert stored is not None
            if stored.delivery_status is not None:
                break
            await asyncio.sleep(0.05)
    assert stored.delivery_status in ("submitted", "delivered")
