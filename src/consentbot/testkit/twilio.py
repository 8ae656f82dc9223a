"""A Twilio-compatible Messages API, and Twilio's signing of the webhooks it would send.

The fake speaks Twilio's protocol: form posts to ``/2010-04-01/Accounts/{sid}/Messages.json``
with basic auth, answered with a JSON body holding a sid. It can be told to fail, reject or
hang, and it records what it accepted, when, and for whom.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from consentbot.channels.twilio_signature import SIGNATURE_HEADER, compute_signature
from consentbot.testkit.ports import LOCALHOST

ACCOUNT_SID = "AC00000000000000000000000000000000"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"  # noqa: S105 (a fake's credential)
SERVICE_NUMBER = "+441610000001"
PUBLIC_URL = "https://consent.example.org"
INBOUND_PATH = "/sms/twilio/inbound"
MESSAGES_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


@dataclass(frozen=True, slots=True)
class Accepted:
    """One message the fake accepted: the sid it answered (or would have answered) with."""

    sid: str
    to: str
    body: str
    at: float
    """``time.perf_counter()`` when it arrived (benchmarks measure replies by it)."""


@dataclass
class FakeTwilio:
    """Records every message the service sends, per recipient."""

    inbox: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """Bodies received, per recipient, in order."""
    arrivals: defaultdict[str, asyncio.Queue[Accepted]] = field(
        default_factory=lambda: defaultdict(asyncio.Queue)
    )
    """The same messages as they arrive, for a caller that waits for them."""
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
        """The fake as an aiohttp application."""
        app = web.Application()
        app.router.add_post(MESSAGES_PATH, self._messages)
        return app

    async def _messages(self, request: web.Request) -> web.Response:
        expected = aiohttp.encode_basic_auth(ACCOUNT_SID, AUTH_TOKEN)
        if (
            request.headers.get("Authorization") != expected
            or request.match_info["sid"] != ACCOUNT_SID
        ):
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        if self.reject_next:
            code = self.reject_next.pop(0)
            body = {"code": code, "message": "rejected", "status": 400}
            return web.json_response(body, status=400)
        if self.fail_next:
            return web.json_response(
                {"code": 20500, "message": "busy"}, status=self.fail_next.pop(0)
            )
        form = await request.post()
        to, text = str(form["To"]), str(form["Body"])
        if "StatusCallback" in form:
            self.status_callbacks.append(str(form["StatusCallback"]))
        accepted = Accepted(f"SM{next(self._ids):032d}", to, text, time.perf_counter())
        self.accepted.append(accepted)
        self.inbox[to].append(text)
        self.arrivals[to].put_nowait(accepted)
        if self.hang_next:
            self.hang_next -= 1
            await self._released.wait()
        return web.json_response({"sid": accepted.sid, "status": "queued"}, status=201)

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
            await runner.cleanup()


def inbound_params(message_sid: str, sender: str, body: str) -> dict[str, str]:
    """The form Twilio posts to the incoming-message webhook for one SMS."""
    return {
        "MessageSid": message_sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": SERVICE_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


def signature_headers(
    path: str, params: dict[str, str], public_url: str = PUBLIC_URL
) -> dict[str, str]:
    """The ``X-Twilio-Signature`` header Twilio would send when posting ``params`` to ``path``."""
    return {SIGNATURE_HEADER: compute_signature(AUTH_TOKEN, public_url + path, params)}
