"""Kannel's routes in the real app: nothing without the token, delivery reports by unguessable reference."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlmodel import col, func, select
from yarl import URL

from consentbot import keys
from consentbot.app import create_app
from consentbot.channels.kannel import INBOUND_PATH, STATUS_PATH
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings, SettingsError
from consentbot.store.tables import Contact, InboundMessage, OutboxMessage
from tests.conftest import AppClient, settle
from tests.support.journey import ResearchSystem
from tests.support.kannel_fake import FakeSendsms

TOKEN = "kannel-app-test-token-0123456789"
PHONE = "+447400123456"


@pytest.fixture
async def sendsms(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> tuple[FakeSendsms, str]:
    fake = FakeSendsms()
    return fake, FakeSendsms.url(await aiohttp_server(fake.app()))


def kannel_settings(settings: Settings, sendsms_url: str) -> Settings:
    return settings.with_(
        sms_gateway="kannel",
        kannel_sendsms_url=sendsms_url,
        kannel_username="consentbot",
        kannel_password="kannel-password",
        kannel_inbound_token=TOKEN,
        kannel_status_url=f"http://127.0.0.1{STATUS_PATH}",
    )


@pytest.fixture
async def kannel_client(
    settings: Settings,
    clock: ManualClock,
    sendsms: tuple[FakeSendsms, str],
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> AppClient:
    app = create_app(kannel_settings(settings, sendsms[1]), clock=clock, run_background=False)
    return await aiohttp_client(app)


def inbound_url(**params: str) -> URL:
    return URL(f"{INBOUND_PATH}?{urlencode(params)}", encoded=True)


async def count(client: AppClient, table: type[Contact] | type[InboundMessage]) -> int:
    async with client.app[keys.DATABASE].read() as session:
        return (await session.exec(select(func.count()).select_from(table))).one()


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN[:-1], TOKEN + "x"])
async def test_inbound_without_the_token_is_403_and_changes_nothing(
    kannel_client: AppClient, token: str | None
) -> None:
    params = {"from": PHONE, "to": "12345", "id": "k-1", "text": "JOINTS"}
    response = await kannel_client.get(
        inbound_url(**params) if token is None else inbound_url(token=token, **params)
    )
    assert response.status == 403
    assert await count(kannel_client, Contact) == 0
    assert await count(kannel_client, InboundMessage) == 0
    # The same message with the token is handled: the refusal above was about the token.
    response = await kannel_client.get(inbound_url(token=TOKEN, **params))
    assert response.status == 200
    assert await count(kannel_client, InboundMessage) == 1


async def test_delivery_reports_find_the_message_by_its_reference_only(
    kannel_client: AppClient, sendsms: tuple[FakeSendsms, str]
) -> None:
    fake, _ = sendsms
    research = await ResearchSystem.register(kannel_client)
    await research.invite(PHONE, "KA-1")
    await settle(kannel_client.app)
    async with kannel_client.app[keys.DATABASE].read() as session:
        (row,) = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    (query,) = fake.queries
    dlr_url = URL(query["dlr-url"])
    # What Kannel is told to call back: the token and the row's random reference, never its id.
    assert dlr_url.path == STATUS_PATH
    assert dlr_url.query["token"] == TOKEN
    assert dlr_url.query["ref"] == row.reference
    assert len(row.reference) == 32

    async def report(**params: str) -> int:
        response = await kannel_client.get(URL(f"{STATUS_PATH}?{urlencode(params)}", encoded=True))
        return response.status

    async def delivery_status() -> str | None:
        async with kannel_client.app[keys.DATABASE].read() as session:
            stored = await session.get(OutboxMessage, row.id)
        assert stored is not None
        return stored.delivery_status

    assert await report(ref=row.reference, type="1") == 403
    assert await report(token="wrong", ref=row.reference, type="1") == 403
    assert await delivery_status() is None
    # Counting through ids finds nothing, even with the token.
    assert await report(token=TOKEN, ref=str(row.id), type="1") == 200
    assert await delivery_status() is None
    # Kannel's own call: its dlr-url with %d filled in.
    called = query["dlr-url"].replace("%d", "1").removeprefix("http://127.0.0.1")
    response = await kannel_client.get(URL(called, encoded=True))
    assert response.status == 200
    assert await delivery_status() == "delivered"


async def test_the_app_will_not_start_without_a_long_token(
    settings: Settings, sendsms: tuple[FakeSendsms, str]
) -> None:
    configured = kannel_settings(settings, sendsms[1])
    with pytest.raises(SettingsError, match=r"CONSENTBOT_KANNEL_INBOUND_TOKEN .*\(it is not set\): without it anyone"):
        create_app(configured.with_(kannel_inbound_token=None))
    with pytest.raises(SettingsError, match=r"at least 24 characters .*\(it has 23\)"):
        create_app(configured.with_(kannel_inbound_token="x" * 23))
