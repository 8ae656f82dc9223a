"""The consent journey through GOV.UK Notify (the local emulator), in every shipped language,
on both databases: the journey every gateway runs (tests/support/consent_journey.py).

The phone's texts reach the service as Notify's received-text callbacks over real HTTP, with
the bearer token; what the service sends goes through the emulator's ``/v2/notifications/sms``,
which checks the JWT and the request as Notify does. Each message the phone reads is
confirmed with Notify's delivery receipt, so the outbox must end with every row delivered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlmodel import select

from consentbot import keys
from consentbot.app import create_app
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.tables import OutboxMessage
from consentbot.testkit.notify import TEMPLATE_ID, FakeNotify
from tests.conftest import AppClient, each_language_then_postgres
from tests.support.consent_journey import consent_journey
from tests.support.notify_phone import NotifyPhone, notify_settings


@pytest.fixture
def notify() -> FakeNotify:
    return FakeNotify()


@pytest.fixture
async def notify_client(
    settings: Settings,
    clock: ManualClock,
    notify: FakeNotify,
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> AppClient:
    """The service configured for Notify, on a real port Notify's callbacks reach."""
    api = await aiohttp_server(notify.app())
    configured = notify_settings(settings, notify, str(api.make_url("")))
    client = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    notify.callback_base = str(client.make_url(""))
    return client


@each_language_then_postgres(["en", "cy", "pl", "ur"], on_postgres="cy")
async def test_invitation_to_confirm_to_withdraw(
    notify_client: AppClient, notify: FakeNotify, clock: ManualClock, language: str
) -> None:
    phone = NotifyPhone(notify, "+447400900401")
    await consent_journey(
        notify_client, clock, phone, language=language, gateway="notify", invite_as="07400 900401"
    )

    # Notify refused nothing, and every message went through the ((body)) template.
    assert notify.refused == []
    assert {a.request["template_id"] for a in notify.accepted} == {TEMPLATE_ID}
    async with notify_client.app[keys.DATABASE].read() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert len(rows) == len(notify.accepted) == phone.read
    # Each row knows Notify's id for it and took the receipt sent for its reference.
    by_reference = {a.reference: a.id for a in notify.accepted}
    assert {row.reference: row.provider_id for row in rows} == by_reference
    assert {(row.status, row.delivery_status) for row in rows} == {("sent", "delivered")}
