"""A Twilio-compatible REST endpoint and a phone that texts the service through signed webhooks.

The fake speaks Twilio's protocol (Messages.json form posts with basic auth, a JSON
answer with a sid); the webhooks are signed with Twilio's published algorithm.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestClient

from consentbot import keys
from consentbot.channels.twilio_signature import compute_signature

ACCOUNT_SID = "AC00000000000000000000000000000000"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
SERVICE_NUMBER = "+441610000001"
PUBLIC_URL = "https://consent.example.org"


@dataclass(frozen=True, slots=True)
class Accepted:
    """One message the fake accepted: the sid it answered (or would have answered) with."""

    sid: str
    to: str
    body: str


@dataclass
class FakeTwilio:
    """Records every message the service sends, per recipient."""

    inbox: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    arrivals: defaultdict[str, asyncio.Queue[str]] = field(default_factory=lambda: defaultdict(asyncio.Queue))
    status_callbacks: list[str] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    """HTTP statuses to answer with before accepting messages again (a busy Twilio)."""
    reject_next: list[int] = field(default_factory=list)
    """Twilio error codes to answer 400 with (21610: the person sent STOP at the carrier)."""
    hang_next: int = 0
    """How many messages to accept and then never answer (until :meth:`release_hung`):
    a Twilio that took the message but whose answer is lost, so the sender times out."""
    accepted: list[Accepted] = field(default_factory=list)
    """Every message accepted, in order, with its sid (also the ones left hanging)."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)
        return app

    async def _messages(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected or request.match_info["sid"] != ACCOUNT_SID:
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        if self.reject_next:
            code = self.reject_next.pop(0)
            return web.json_response({"code": code, "message": "rejected", "status": 400}, status=400)
        if self.fail_next:
            return web.json_response({"code": 20500, "message": "busy"}, status=self.fail_next.pop(0))
        form = await request.post()
        to, body = str(form["To"]), str(form["Body"])
        if "StatusCallback" in form:
            self.status_callbacks.append(str(form["StatusCallback"]))
        sid = f"SM{next(self._ids):032d}"
        self.accepted.append(Accepted(sid, to, body))
        self.inbox[to].append(body)
        self.arrivals[to].put_nowait(body)
        if self.hang_next:
            self.hang_next -= 1
            await self._released.wait()
        return web.json_response({"sid": sid, "status": "queued"}, status=201)

    def release_hung(self) -> None:
        """Let every hanging request finish (their callers have long given up)."""
        self._released.set()


def signature_headers(path: str, params: dict[str, str], public_url: str = PUBLIC_URL) -> dict[str, str]:
    """The ``X-Twilio-Signature`` header Twilio would send when posting ``params`` to ``path``."""
    return {"X-Twilio-Signature": compute_signature(AUTH_TOKEN, public_url + path, params)}


class TwilioPhone:
    """One patient's phone: texts the service through Twilio webhooks, reads what came back."""

    _sids = itertools.count(1)

    def __init__(self, client: TestClient[web.Request, web.Application], twilio: FakeTwilio, number: str) -> None:
        self.client = client
        self.twilio = twilio
        self.number = number
        self.read = 0

    async def send(self, body: str, *, sid: str | None = None) -> str:
        """Text ``body``; returns the MessageSid used (to replay it)."""
        sid = sid or f"SM{next(self._sids):032x}"
        params = {"MessageSid": sid, "From": self.number, "To": SERVICE_NUMBER, "Body": body, "NumMedia": "0"}
        base = self.client.app[keys.SETTINGS].public_url or PUBLIC_URL
        signature = compute_signature(AUTH_TOKEN, base + "/sms/twilio/inbound", params)
        response = await self.client.post(
            "/sms/twilio/inbound", data=params, headers={"X-Twilio-Signature": signature}
        )
        assert response.status == 200, await response.text()
        return sid

    def text(self) -> str:
        """Everything received since the last read, as one text (long replies come in parts)."""
        return "\n".join(self.new_messages())

    def new_messages(self) -> list[str]:
        """Messages received since the last call."""
        messages = self.twilio.inbox[self.number][self.read :]
        self.read = len(self.twilio.inbox[self.number])
        return messages
