"""The console gateway answers only this machine: anyone else could text as any number."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from consentbot.app import create_app
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient

PHONE = "+447400123457"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def console_app(settings: Settings, clock: ManualClock, peer: str | None) -> web.Application:
    """The real app on the console gateway; requests appear to come from ``peer`` when given."""
    app = create_app(settings.with_(sms_gateway="console"), clock=clock, run_background=False)
    if peer is not None:

        @web.middleware
        async def from_peer(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await handler(request.clone(remote=peer))

        app.middlewares.append(from_peer)
    return app


@pytest.mark.parametrize("peer", ["203.0.113.7", "10.0.0.2", "2001:db8::1", "::ffff:192.0.2.1"])
async def test_a_peer_elsewhere_is_refused_and_nothing_is_sent(
    settings: Settings,
    clock: ManualClock,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
    peer: str,
) -> None:
    client = await aiohttp_client(console_app(settings, clock, peer))
    response = await client.post("/sms/console/inbound", data={"From": PHONE, "Body": "JOINTS"})
    assert response.status == 403
    response = await client.get("/sms/console/messages", params={"phone": PHONE})
    assert response.status == 403
    assert "messages" not in await response.text()


@pytest.mark.parametrize("peer", [None, "127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
async def test_this_machine_is_answered(
    settings: Settings,
    clock: ManualClock,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
    peer: str | None,
) -> None:
    client = await aiohttp_client(console_app(settings, clock, peer))
    response = await client.post("/sms/console/inbound", data={"From": PHONE, "Body": "JOINTS"})
    assert response.status == 200
    response = await client.get("/sms/console/messages", params={"phone": PHONE})
    assert response.status == 200
    assert (await response.json())["next"] == 0  # nothing sent yet: the loops have not run
