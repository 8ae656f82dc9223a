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
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

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
        self.inbox[to].append(body)
        self.arrivals[to].put_nowait(body)
        return web.json_response({"sid": f"SM{next(self._ids):032d}", "status": "queued"}, status=201)


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
