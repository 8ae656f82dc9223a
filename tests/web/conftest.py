"""A browser-like client for the web chat: keeps the cookie and reads the CSRF token."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from tests.conftest import AppClient
from tests.support.journey import STUDY

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
BODY = re.compile(r'<p class="body"[^>]*>(.*?)</p>', re.S)


@dataclass
class Browser:
    client: AppClient
    study: str = STUDY
    language: str = "en"
    page: str = ""
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    async def open(self, path: str | None = None) -> str:
        response = await self.client.get(
            path or f"/s/{self.study}", headers={"Accept-Language": self.language}
        )
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
