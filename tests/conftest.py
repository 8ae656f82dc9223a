"""Fixtures: databases (SQLite and PostgreSQL), a manual clock, the app from the real factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from consentbot import keys
from consentbot.app import create_app
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.testkit.ports import free_port
from tests.support.databases import PostgresDatabase, SqliteTemplate, postgres_admin_url
from tests.support.twilio_fake import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    SERVICE_NUMBER,
    FakeTwilio,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-key-that-is-long-enough-0123456789"
# A Tuesday morning in London: reminders one day later fall outside quiet hours.
START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase | None]:
    admin = postgres_admin_url()
    if admin is None:
        yield None
        return
    database = PostgresDatabase(admin)
    database.create()
    yield database
    database.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: SqliteTemplate,
    postgres_database: PostgresDatabase | None,
) -> str:
    """Every test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_template.fresh(tmp_path)
    if postgres_database is None:
        pytest.skip("set CONSENTBOT_TEST_POSTGRES_URL to run the PostgreSQL tests")
    postgres_database.truncate()
    return postgres_database.url


def each_language_then_postgres(languages: Sequence[str], *, on_postgres: str) -> pytest.MarkDecorator:
    """Run a test in every one of ``languages`` on SQLite, and in ``on_postgres`` on PostgreSQL.

    For journeys whose languages differ only in their words (catalogs and content, read in
    Python) and whose databases differ only in their SQL (the same statements whatever the
    language): every language is proven on SQLite and the SQL on PostgreSQL, with a language
    whose text is far from ASCII so its storage is proven there too, without every pair.
    Parametrizes ``database_url`` (indirectly) and ``language``.
    """
    pairs = [pytest.param("sqlite", language, id=f"sqlite-{language}") for language in languages]
    pairs.append(
        pytest.param("postgres", on_postgres, id=f"postgres-{on_postgres}", marks=pytest.mark.postgres)
    )
    return pytest.mark.parametrize(("database_url", "language"), pairs, indirect=["database_url"])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key=SECRET,
        content_dir=ROOT / "content",
        locales_dir=ROOT / "locales",
        sms_gateway="twilio",
        public_url=PUBLIC_URL,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=SERVICE_NUMBER,
        # Tests drive the outbox round by round without waiting: pacing is tested on its own.
        send_rate=1000.0,
    )


@pytest.fixture
def fake_twilio() -> FakeTwilio:
    return FakeTwilio()


AppClient = TestClient[web.Request, web.Application]


@pytest.fixture
async def twilio_server(fake_twilio: FakeTwilio) -> AsyncIterator[TestServer]:
    server = TestServer(fake_twilio.app())
    await server.start_server()
    yield server
    fake_twilio.release_hung()  # or closing would wait for requests a test left hanging
    await server.close()


@pytest.fixture
async def client(
    settings: Settings,
    clock: ManualClock,
    twilio_server: TestServer,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> AppClient:
    """The service configured for Twilio, pointed at the fake Twilio API; loops driven by tests."""
    api_base = str(twilio_server.make_url("")).rstrip("/")
    app = create_app(settings.with_(twilio_api_base=api_base), clock=clock, run_background=False)
    return await aiohttp_client(app)


async def settle(app: web.Application) -> None:
    """Run due timers, then send everything due: what the background loops do each second."""
    await app[keys.TIMERS].run_due()
    while await app[keys.DISPATCHER].dispatch_once():
        pass


@pytest.fixture
def run_loops(client: AppClient) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await settle(client.app)

    return run




WebClientFactory = Callable[..., Awaitable[AppClient]]


@pytest.fixture
def make_web_client(
    settings: Settings,
    clock: ManualClock,
    twilio_server: TestServer,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> WebClientFactory:
    """Builds the service on a known port whose public URL is itself (plain HTTP, as browsers
    in tests see it), with the fake Twilio; keyword arguments change other settings."""

    async def make(**changes: Any) -> AppClient:
        port = free_port()
        configured = settings.with_(
            public_url=f"http://127.0.0.1:{port}",
            twilio_api_base=str(twilio_server.make_url("")).rstrip("/"),
            **changes,
        )
        app = create_app(configured, clock=clock, run_background=False)
        return await aiohttp_client(TestServer(app, port=port))

    return make


@pytest.fixture
async def web_client(make_web_client: WebClientFactory) -> AppClient:
    """The service on a known port whose public URL is itself."""
    return await make_web_client()
