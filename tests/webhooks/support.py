"""A webhook receiver on a real HTTP server, and helpers to drive deliveries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlmodel import col, select

from consentbot import keys
from consentbot.store.tables import WebhookDelivery
from tests.conftest import AppClient


@dataclass(frozen=True)
class Received:
    """One request as the receiver got it."""

    headers: dict[str, str]
    body: str

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    """Answers each request with the next of ``answers`` (then 200, or 500 while ``refusing``
    names the participant), and keeps what came."""

    answers: list[int] = field(default_factory=list)
    refusing: set[str] = field(default_factory=set)
    hold: asyncio.Event | None = None
    """While set and not yet set free, every request hangs (a receiver that stopped answering)."""
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.received.append(Received({k.lower(): v for k, v in request.headers.items()}, body))
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        status = self.answers.pop(0) if self.answers else 200
        if json.loads(body)["participant"] in self.refusing:
            status = 500
        return web.Response(status=status, text="ok" if status < 300 else "not now")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hooks/consent", self.handle)
        return app

    def payloads(self) -> list[dict[str, Any]]:
        return [each.payload for each in self.received]


async def receiving(receiver: Receiver) -> AsyncIterator[tuple[Receiver, str]]:
    server = TestServer(receiver.app(), host="127.0.0.1")
    await server.start_server()
    yield receiver, str(server.make_url("/hooks/consent"))
    await server.close()


async def deliveries(client: AppClient) -> list[WebhookDelivery]:
    async with client.app[keys.DATABASE].read() as session:
        statement = select(WebhookDelivery).order_by(col(WebhookDelivery.id))
        return list((await session.exec(statement)).all())


async def add_webhook(client: AppClient, url: str, study: str) -> tuple[int, str]:
    added = await client.app[keys.WEBHOOKS].add(study, url)
    return added.id, added.secret
