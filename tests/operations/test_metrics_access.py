"""Who may read /metrics: allowed client networks, or the bearer token; nobody else, silently."""

from __future__ import annotations

import pytest

from consentbot.settings import Settings, SettingsError
from tests.conftest import WebClientFactory
from tests.operations.scrape import scrape
from tests.support.databases import SQLITE_ONLY

TOKEN = "metrics-token-0123456789abcdef"


@SQLITE_ONLY
async def test_loopback_may_scrape_by_default_and_nobody_when_the_list_is_none(
    make_web_client: WebClientFactory,
) -> None:
    default = await make_web_client()
    assert await scrape(default)  # the test client connects from 127.0.0.1
    closed = await make_web_client(metrics_allow=())
    refused = await closed.get("/metrics")
    assert refused.status == 403
    assert await refused.text() == "403: Forbidden"  # no detail


@SQLITE_ONLY
async def test_the_bearer_token_opens_it_and_a_wrong_one_is_refused_everywhere(
    make_web_client: WebClientFactory,
) -> None:
    client = await make_web_client(metrics_allow=(), metrics_token=TOKEN)
    assert await scrape(client, Authorization=f"Bearer {TOKEN}")
    for wrong in (f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", TOKEN, "Basic Zm9vOmJhcg=="):
        refused = await client.get("/metrics", headers={"Authorization": wrong})
        assert refused.status == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert TOKEN not in await refused.text()
    # From an allowed address, a wrong token is still a wrong token.
    allowed = await make_web_client(metrics_token=TOKEN)
    refused = await allowed.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert refused.status == 401
    # No token configured: no Authorization header can open it.
    plain = await make_web_client(metrics_allow=())
    assert (await plain.get("/metrics", headers={"Authorization": "Bearer "})).status == 401


@SQLITE_ONLY
async def test_behind_a_trusted_proxy_the_real_client_address_decides(
    make_web_client: WebClientFactory,
) -> None:
    client = await make_web_client(
        trusted_proxies=("127.0.0.1",), metrics_allow=("10.20.0.0/16",)
    )
    assert await scrape(client, **{"X-Forwarded-For": "10.20.3.4"})
    outside = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert outside.status == 403
    # A client cannot write itself into the allowed network from outside: the proxy
    # appends the real address, the right-most one is believed.
    spoofed = await client.get("/metrics", headers={"X-Forwarded-For": "10.20.3.4, 203.0.113.9"})
    assert spoofed.status == 403
    # The proxy's own loopback address is not the client's.
    direct_from_proxy = await client.get("/metrics")
    assert direct_from_proxy.status == 403


@SQLITE_ONLY
async def test_a_request_forwarded_by_an_untrusted_proxy_is_not_loopback(
    make_web_client: WebClientFactory,
) -> None:
    """A reverse proxy on this machine, not configured as trusted, makes every request look
    like loopback: such requests are refused unless they carry the token."""
    client = await make_web_client(metrics_token=TOKEN)
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        refused = await client.get("/metrics", headers={header: "203.0.113.9"})
        assert refused.status == 403
    headers = {"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {TOKEN}"}
    assert await scrape(client, **headers)


def test_metrics_settings_from_the_environment() -> None:
    assert Settings.from_env({}).metrics_allow == ("127.0.0.0/8", "::1")
    assert Settings.from_env({"CONSENTBOT_METRICS_ALLOW": "none"}).metrics_allow == ()
    networks = Settings.from_env({"CONSENTBOT_METRICS_ALLOW": "10.0.0.0/8, fd00::/8"})
    assert networks.metrics_allow == ("10.0.0.0/8", "fd00::/8")
    networks.check()
    with pytest.raises(SettingsError, match="CONSENTBOT_METRICS_ALLOW: 'prometheus'"):
        Settings.from_env({"CONSENTBOT_METRICS_ALLOW": "prometheus"}).check()
    with pytest.raises(SettingsError, match="CONSENTBOT_METRICS_TOKEN must be at least 24"):
        Settings.from_env({"CONSENTBOT_METRICS_TOKEN": "short"}).check()
    token = Settings.from_env({"CONSENTBOT_METRICS_TOKEN": TOKEN})
    assert token.metrics_token == TOKEN
    assert TOKEN not in repr(token)
