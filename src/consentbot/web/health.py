"""``/healthz`` (the process is alive) and ``/readyz`` (it can do its work): no auth on either.

Liveness must not depend on the database: restarting a process because PostgreSQL is
down only adds load. Readiness does: a process whose database is away, or whose schema
is not the code's, should get no traffic until that is fixed.

A probe needs only the status code. Why a process is not ready, and which migration its
code and database are at, is for its operators: it says which release runs (and so which
of its flaws an attacker might try) and what state the database is in. Those details go
only to whoever may read ``/metrics`` (an allowed address or the bearer token).
"""

from __future__ import annotations

from aiohttp import web

from consentbot import keys
from consentbot.settings import Settings
from consentbot.web.metrics_endpoint import MetricsAccess, metrics_access

_NO_STORE = {"Cache-Control": "no-store"}


async def healthz(_request: web.Request) -> web.Response:
    """200 while the process serves HTTP at all."""
    return web.json_response({"status": "ok"}, headers=_NO_STORE)


def _readyz(access: MetricsAccess) -> web.RouteDef:
    async def readyz(request: web.Request) -> web.Response:
        """200 when ``SELECT 1`` works and the database's migration is the code's; else 503,
        with the revisions and the reason for those who may read ``/metrics``."""
        report = await request.app[keys.READINESS].check()
        body: dict[str, str | None] = {"status": "ready" if report.ready else "not ready"}
        if access.refusal(request) is None:
            body["database_revision"] = report.database_revision
            body["code_revision"] = report.code_revision
            if report.reason is not None:
                body["reason"] = report.reason
        return web.json_response(body, status=200 if report.ready else 503, headers=_NO_STORE)

    return web.get("/readyz", readyz)


def health_routes(settings: Settings) -> list[web.RouteDef]:
    """The two probes; ``/readyz``'s details for the addresses and token ``settings`` allow
    to read ``/metrics``."""
    return [web.get("/healthz", healthz), _readyz(metrics_access(settings))]
