"""A phone that texts the service through signed Twilio webhooks (the fake Twilio it reads
its replies from is the shared one in :mod:`consentbot.testkit.twilio`)."""

from __future__ import annotations

import itertools

from aiohttp import web
from aiohttp.test_utils import TestClient

from consentbot import keys
from consentbot.testkit.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    INBOUND_PATH,
    PUBLIC_URL,
    SERVICE_NUMBER,
    Accepted,
    FakeTwilio,
    inbound_params,
    signature_headers,
)

__all__ = [
    "ACCOUNT_SID",
    "AUTH_TOKEN",
    "PUBLIC_URL",
    "SERVICE_NUMBER",
    "Accepted",
    "FakeTwilio",
    "TwilioPhone",
    "signature_headers",
]

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
        params = inbound_params(sid, self.number, body)
        base = self.client.app[keys.SETTINGS].public_url or PUBLIC_URL
        headers = signature_headers(INBOUND_PATH, params, base)
        response = await self.client.post(INBOUND_PATH, data=params, headers=headers)
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
