"""A fake of Kannel smsbox's ``sendsms`` HTTP interface: records each query, answers as told."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer

SENDSMS_PATH = "/cgi-bin/sendsms"


@dataclass
class FakeSendsms:
    status: int = 202
    body: str = "0: Accepted for delivery"
    delay: float = 0.0
    queries: list[dict[str, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=self.status, text=self.body)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(SENDSMS_PATH, self.handle)
        return app

    @staticmethod
    def url(server: TestServer) -> str:
        return str(server.make_url(SENDSMS_PATH))
