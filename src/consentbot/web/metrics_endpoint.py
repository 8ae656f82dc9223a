"""``GET /metrics`` in Prometheus text format, for allowed addresses or a bearer token.

Who may scrape (docs/operations.md): a client whose address is in
``CONSENTBOT_METRICS_ALLOW`` (loopback by default), or anyone presenting
``Authorization: Bearer <CONSENTBOT_METRICS_TOKEN>``. The address is the one
:func:`client_address` believes, so behind a trusted proxy it is the real client's.
A request that was forwarded by a proxy we were not told to trust has an address that
means nothing (the proxy's own, often loopback): only the token lets it in.

Refusals say nothing: 401 for a wrong or unexpected token, 403 for an address.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from ipaddress import IPv6Address, ip_address

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from consentbot import keys
from consentbot.metrics import multiprocess_dir
from consentbot.services.queue_gauges import QueueCollector
from consentbot.settings import Settings
from consentbot.web.client_address import Network, client_address, trusted_networks

_FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


@dataclass(frozen=True)
class MetricsAccess:
    """Who may read ``/metrics``."""

    allowed: tuple[Network, ...]
    token: str | None
    proxies: tuple[Network, ...]

    def refusal(self, request: web.Request) -> web.HTTPException | None:
        """None when the request may scrape; otherwise the bare error to answer with."""
        authorization = request.headers.get("Authorization")
        if authorization is not None:
            if self.token is not None and _same(authorization, f"Bearer {self.token}"):
                return None
            return web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
        peer = request.remote
        forwarded = any(name in request.headers for name in _FORWARDING_HEADERS)
        if forwarded and not _within(peer, self.proxies):
            return web.HTTPForbidden()
        address = client_address(peer, request.headers.get("X-Forwarded-For"), self.proxies)
        return None if _within(address, self.allowed) else web.HTTPForbidden()


def _same(given: str, expected: str) -> bool:
    """Constant-time, so the time taken says nothing about how much of a guess was right."""
    return hmac.compare_digest(given.encode(), expected.encode())


def _within(address: str | None, networks: tuple[Network, ...]) -> bool:
    try:
        parsed = ip_address(address or "")
    except ValueError:
        return False
    if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is not None:
        # A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d.
        parsed = parsed.ipv4_mapped
    return any(parsed in network for network in networks)


async def _exposition(app: web.Application) -> bytes:
    """This process's counters (or, with several workers, every process's) and the queues."""
    reading = await app[keys.QUEUE_GAUGES].read()
    queues = CollectorRegistry()
    queues.register(QueueCollector(reading))
    folder = multiprocess_dir()
    if folder is None:
        return generate_latest(app[keys.METRICS].registry) + generate_latest(queues)
    # Every worker's files, this one's included; the queue gauges once, from this process.
    MultiProcessCollector(queues, path=folder)  # type: ignore[no-untyped-call]
    return generate_latest(queues)


def metrics_access(settings: Settings) -> MetricsAccess:
    """Who may read ``/metrics`` (and ``/readyz``'s details), as ``settings`` say."""
    return MetricsAccess(
        allowed=trusted_networks(settings.metrics_allow),
        token=settings.metrics_token,
        proxies=trusted_networks(settings.trusted_proxies),
    )


def metrics_routes(settings: Settings) -> list[web.RouteDef]:
    """``GET /metrics``, guarded by :class:`MetricsAccess` built from ``settings``."""
    access = metrics_access(settings)

    async def metrics(request: web.Request) -> web.Response:
        refused = access.refusal(request)
        if refused is not None:
            raise refused
        body = await _exposition(request.app)
        return web.Response(
            body=body,
            headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
        )

    return [web.get("/metrics", metrics)]


async def forget_this_process(_app: web.Application) -> None:
    """With several workers: drop this process's live gauges from the sums once it stops."""
    if multiprocess_dir() is not None:
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
