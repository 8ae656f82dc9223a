"""The console gateway: outbound printed to the terminal, inbound through a form or ``consentbot chat``.

For trying the whole journey on one machine. Phone numbers are printed because
this gateway exists to show a developer their own test conversation. Its routes
have no authentication, so ``Settings.check`` only lets it listen on a loopback
address, and the routes themselves answer 403 to any peer that is not loopback.
"""

from __future__ import annotations

import itertools
import sys
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from aiohttp import web

from consentbot.channels.gateway import InboundHandler, InboundSms, OutboundSms
from consentbot.loopback import is_loopback

INBOUND_PATH = "/sms/console/inbound"
MESSAGES_PATH = "/sms/console/messages"


class ConsoleGateway:
    """Prints each outbound SMS and keeps it for ``consentbot chat`` to read."""

    name = "console"

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out
        self._ids = itertools.count(1)
        self.sent: defaultdict[str, list[OutboundSms]] = defaultdict(list)

    async def send(self, message: OutboundSms) -> str:
        """Print the message; it "arrives" at once."""
        out = self.out or sys.stdout
        print(f"\n--- SMS to {message.to} ---\n{message.text}\n", file=out, flush=True)
        self.sent[message.to].append(message)
        return f"console-{next(self._ids)}"


def console_routes(
    gateway: Callable[[], ConsoleGateway | None],
    *,
    on_inbound: InboundHandler,
    now: Callable[[], datetime],
) -> list[web.RouteDef]:
    """``POST /sms/console/inbound`` (form: From, Body) and ``GET /sms/console/messages?phone=&after=``.

    Both answer 403 to a peer that is not on this machine: anyone who reached them
    could text as any number and read every reply, one-time codes included.
    """
    ids = itertools.count(1)

    def refuse_remote(request: web.Request) -> None:
        if not is_loopback(request.remote):
            raise web.HTTPForbidden(text="the console gateway only answers this machine")

    async def inbound(request: web.Request) -> web.Response:
        refuse_remote(request)
        form = await request.post()
        sender, body = form.get("From"), form.get("Body")
        if not isinstance(sender, str) or not isinstance(body, str) or not sender:
            raise web.HTTPBadRequest(text="From and Body are required")
        message_id = str(form.get("MessageId") or f"console-in-{next(ids)}-{now().timestamp()}")
        await on_inbound(InboundSms("console", message_id, sender, "console", body, now()))
        return web.json_response({"accepted": True})

    async def messages(request: web.Request) -> web.Response:
        refuse_remote(request)
        phone = request.query.get("phone", "")
        try:
            after = int(request.query.get("after", "0"))
        except ValueError as error:
            raise web.HTTPBadRequest(text="after must be a whole number") from error
        console = gateway()
        sent = console.sent.get(phone, []) if console is not None else []
        return web.json_response({"messages": [m.text for m in sent[after:]], "next": len(sent)})

    return [web.post(INBOUND_PATH, inbound), web.get(MESSAGES_PATH, messages)]
