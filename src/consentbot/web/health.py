"""``/healthz`` (the process is alive) and ``/readyz`` (it can do its work): no auth on either.

Liveness must not depend on the database: restarting a process because PostgreSQL is
down only adds load. Readiness does: a process whose database is away, or whose schema
is not the code's, should get no traffic until that is fixed.
"""

from __future__ import annotations

from aiohttp import web

from consentbot import keys
from consentbot.services.readiness import Readiness

_NO_STORE = {"Cache-Control": "no-store"}


async def healthz(_request: web.Request) -> web.Response:
    """200 while the process serves HTTP at all."""
    return web.json_response({"status": "ok"}, headers=_NO_STORE)


async def readyz(request: web.Request) -> web.Response:
    """200 when ``SELECT 1`` works and the database's migration is the code's; else 503."""
    report = await Readiness(request.app[keys.DATABASE]).check()
    body: dict[str, str | None] = {
        "status": "ready" if report.ready else "not ready",
        "database_revision": report.database_revision,
        "code_revision": report.code_revision,
    }
    if report.reason is not None:
        body["reason"] = report.reason
    return web.json_response(body, status=200 if report.ready else 503, headers=_NO_STORE)


def health_routes() -> list[web.RouteDef]:
    """The two probes."""
    return [web.get("/healthz", healthz), web.get("/readyz", readyz)]
