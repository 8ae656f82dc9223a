"""The service with a database a test can take away: a PostgreSQL relay it cuts (open
connections break, new ones are refused), or an SQLite file whose folder disappears (a volume
unmounted) after the pool lost its connections."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url

from consentbot import keys
from consentbot.app import create_app
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient
from tests.support.databases import aiosqlite_threads_finished
from tests.support.tcp_proxy import TcpProxy


@dataclass
class Outage:
    """Takes the app's database away and brings it back."""

    client: AppClient
    proxy: TcpProxy | None
    folder: Path | None

    async def begin(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()
            return
        assert self.folder is not None
        await self.client.app[keys.DATABASE].engine.dispose()
        self.folder.rename(self.folder.with_name("unmounted"))

    async def end(self) -> None:
        if self.proxy is not None:
            await self.proxy.start()
            return
        assert self.folder is not None
        await aiosqlite_threads_finished()  # the connections that failed to open
        self.folder.with_name("unmounted").rename(self.folder)


@pytest.fixture
async def outage(
    settings: Settings,
    clock: ManualClock,
    twilio_server: TestServer,
    tmp_path: Path,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> AsyncIterator[Outage]:
    configured = settings.with_(twilio_api_base=str(twilio_server.make_url("")).rstrip("/"))
    proxy = folder = None
    if settings.is_embedded:
        folder = tmp_path / "volume"
        folder.mkdir()
        source = Path(make_url(settings.database_url).database or "")
        shutil.copyfile(source, folder / source.name)
        configured = configured.with_(database_url=f"sqlite+aiosqlite:///{folder / source.name}")
    else:
        proxy = TcpProxy.for_url(settings.database_url)
        await proxy.start()
        configured = configured.with_(database_url=proxy.url_through(settings.database_url))
    client = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    yield Outage(client, proxy, folder)
    await client.close()
    if proxy is not None:
        await proxy.close()
