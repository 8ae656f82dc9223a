"""A staff browser: a client whose cookie jar treats the test server as HTTPS (staff cookies
are always Secure), and helpers to add accounts and log in."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pyotp
import pytest
from aiohttp import CookieJar, web
from aiohttp.test_utils import TestServer

from consentbot import keys
from consentbot.app import create_app
from consentbot.domain.staff import StaffRole
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.testkit.ports import free_port
from tests.conftest import AppClient
from tests.support.journey import STUDY

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SECRET = re.compile(r'<span class="secret" dir="ltr">([A-Z2-7 ]+)</span>')
ERROR = re.compile(r'<p class="error" role="alert" id="form-error">(.*?)</p>', re.S)
NOTICE = re.compile(r'<p class="notice" role="status">(.*?)</p>', re.S)
PASSWORD = "correct horse battery staple"


@dataclass
class StaffBrowser:
    """One browser: keeps its cookies, reads the CSRF token of the page it shows."""

    client: AppClient
    clock: ManualClock
    page: str = ""
    status: int = 0
    url: str = ""
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def app(self) -> web.Application:
        return self.client.app

    async def open(self, path: str) -> str:
        response = await self.client.get(path)
        self.status, self.url, self.page = response.status, response.url.path, await response.text()
        return self.page

    @property
    def csrf(self) -> str:
        match = CSRF.search(self.page)
        assert match, f"no CSRF token on {self.url}"
        return match.group(1)

    @property
    def error(self) -> str | None:
        match = ERROR.search(self.page)
        return html.unescape(match.group(1)) if match else None

    @property
    def notice(self) -> str | None:
        match = NOTICE.search(self.page)
        return html.unescape(match.group(1)) if match else None

    async def post(self, path: str, **form: str) -> int:
        """Submit a form from the page now shown (its CSRF token included unless given)."""
        fields = {"csrf": self.csrf} | form
        response = await self.client.post(path, data=fields)
        self.status, self.url, self.page = response.status, response.url.path, await response.text()
        return self.status

    async def add(
        self,
        email: str,
        role: StaffRole = StaffRole.COMMUNITY_WORKER,
        *,
        studies: tuple[str, ...] = (),
        org: str | None = None,
    ) -> str:
        """Add an account through the service; return the path of its set-password link."""
        if role is StaffRole.STUDY_TEAM and not studies:
            studies = (STUDY,)
        if role is StaffRole.COMMUNITY_WORKER and org is None:
            org = "Drop-in Centre"
        added = await self.app[keys.STAFF_ACCOUNTS].add(email, role, studies, org)
        return "/" + added.link.split("/", 3)[3]

    async def set_password(self, link: str, password: str = PASSWORD) -> int:
        await self.open(link)
        return await self.post(link, password=password, again=password)

    async def log_in(self, email: str, password: str = PASSWORD) -> int:
        await self.open("/staff/login")
        return await self.post("/staff/login", email=email, password=password)

    async def enrol(self, email: str) -> None:
        """On the set-up page: read the key, answer with the app's code for now."""
        await self.open("/staff/totp")
        match = SECRET.search(self.page)
        assert match, self.page
        self.secrets[email] = match.group(1).replace(" ", "")
        await self.post("/staff/totp", code=self.code(email))

    def code(self, email: str) -> str:
        return pyotp.TOTP(self.secrets[email]).at(self.clock())

    async def account(
        self, email: str, role: StaffRole = StaffRole.COMMUNITY_WORKER, **scope: str
    ) -> None:
        """An account with a password, logged in (and enrolled when its role needs TOTP)."""
        link = await self.add(email, role, org=scope.get("org"))
        await self.set_password(link)
        await self.log_in(email)
        if role.needs_totp:
            await self.enrol(email)


StaffFactory = Callable[..., Awaitable[StaffBrowser]]


@pytest.fixture
def make_staff(
    settings: Settings,
    clock: ManualClock,
    twilio_server: TestServer,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> StaffFactory:
    """A fresh browser on the service (with the fake Twilio, as the other web tests)."""

    async def make() -> StaffBrowser:
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        app = create_app(
            settings.with_(
                public_url=origin, twilio_api_base=str(twilio_server.make_url("")).rstrip("/")
            ),
            clock=clock,
            run_background=False,
        )
        jar = CookieJar(unsafe=True, treat_as_secure_origin=origin)
        client = await aiohttp_client(TestServer(app, port=port), cookie_jar=jar)
        return StaffBrowser(client, clock)

    return make


@pytest.fixture
async def staff(make_staff: StaffFactory) -> StaffBrowser:
    return await make_staff()
