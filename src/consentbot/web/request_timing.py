"""Count and time every HTTP request by route template (never by path: paths carry tokens)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from consentbot import keys

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
"""The route label of a request no route matched (404, 405): one series, whatever the path."""
CLIENT_GONE = 499
"""The status label of a request whose client left before the answer (nginx's convention)."""


def route_label(request: web.Request) -> str:
    """The matched route's template, e.g. ``/i/{token}``; :data:`UNMATCHED` when none."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


@web.middleware
async def request_timing(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Observe ``consentbot_http_request_duration_seconds`` and count the answer's status."""
    metrics = request.app[keys.METRICS]
    method = request.method if request.method in _METHODS else "other"
    route = route_label(request)
    status = 500
    started = time.perf_counter()
    metrics.http_in_flight.inc()
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_GONE
        raise
    finally:
        metrics.http_in_flight.dec()
        seconds = time.perf_counter() - started
        metrics.labelled(metrics.http_request_seconds, method, route).observe(seconds)
        metrics.labelled(metrics.http_requests, method, route, str(status)).inc()
