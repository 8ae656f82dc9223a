"""A browser-like client for the web chat: keeps the cookie and reads the CSRF token."""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestServer

from consentbot.app import create_app
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient
from tests.support.journey import STUDY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def web_client(
    settings: Settings,
    clock: ManualClock,
    twilio_server: TestServer,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> AppClient:
    """The service on a known port whose public URL is itself (plain HTTP, as browsers in tests see it)."""
    port = free_port()
    configured = settings.with_(
        public_url=f"http://127.0.0.1:{port}",
        twilio_api_base=str(twilio_server.make_url("")).rstrip("/"),
    )
    app = create_app(configured, clock=clock, run_background=False)
    return await aiohttp_client(TestServer(app, port=port))


CSRF = re.compile(r'name="csrf" value="([^"]+)"')
BODY = re.compile(r'<p class="body">(.*?)</p>', re.S)


@dataclass
class Browser:
    client: AppClient
    study: str = STUDY
    language: str = "en"
    page: str = ""
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    async def open(self, path: str | None = None) -> str:
        response = await self.client.get(path or f"/s/{self.study}", headers={"Accept-Language": self.language})
        self.status = response.status
        self.headers = dict(response.headers)
        self.page = await response.text()
        return self.page

    @property
    def csrf(self) -> str:
        match = CSRF.search(self.page)
        assert match, "no CSRF token on the page"
        return match.group(1)

    async def post(self, action: str, **form: str) -> int:
        response = await self.client.post(
            f"/s/{self.study}/{action}", data={"csrf": self.csrf, **form}, allow_redirects=True
        )
        self.status = response.status
        self.page = await response.text()
        return response.status

    async def say(self, text: str) -> str:
        await self.post("messages", text=text)
        return self.last_reply()

    def messages(self) -> list[str]:
        return [html.unescape(m) for m in BODY.findall(self.page)]

    def last_reply(self) -> str:
        return self.messages()[-1]
