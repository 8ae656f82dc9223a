"""A browser-like client for the web chat: keeps the cookie and reads the CSRF token."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.conftest import AppClient
from tests.support.journey import STUDY
from tests.support.twilio_fake import FakeTwilio

CODE = re.compile(r"\b(\d{6})\b")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
FORM = re.compile(r'name="form" value="([^"]+)"')
QUESTION = re.compile(r'name="question" value="([^"]*)"')
LANG = re.compile(r'name="lang" value="([^"]*)"')
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

    @property
    def form_id(self) -> str:
        match = FORM.search(self.page)
        assert match, "no one-time form id on the page"
        return match.group(1)

    @property
    def question(self) -> str:
        """The question the page shows as waiting ("" for none)."""
        match = QUESTION.search(self.page)
        assert match, "no question field on the page"
        return match.group(1)

    async def post(self, action: str, **form: str) -> int:
        """Submit a form of the page as a browser would (the page's hidden fields included)."""
        lang = LANG.search(self.page)
        fields = {"csrf": self.csrf, "form": self.form_id, "lang": lang.group(1) if lang else ""}
        if action == "messages":
            fields["question"] = self.question
        response = await self.client.post(
            f"/s/{self.study}/{action}", data=fields | form, allow_redirects=True
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

    async def verify(self, number: str, twilio: FakeTwilio, settle: Callable[[], Awaitable[None]]) -> None:
        """Check ``number`` with the code the service texts to it (``settle`` sends it)."""
        await self.post("verify", phone=number)
        await settle()
        code = CODE.search(twilio.inbox[number][-1])
        assert code is not None, twilio.inbox[number]
        await self.post("verify/code", code=code.group(1))
