"""503 with ``Retry-After`` when the database is unavailable, so a gateway tries again later.

A webhook that fails this way has changed nothing: each is one transaction, rolled back
with the lost connection, and inbound handling is idempotent on the gateway's message id,
so the retry is processed exactly once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from consentbot.store.errors import describe, is_unavailable

log = structlog.get_logger(__name__)

RETRY_AFTER_SECONDS = 30
"""Long enough for a database restart or fail-over; gateways may wait longer."""

_TEXT = "The service is briefly unavailable. Please try again in a minute."
_API_ERROR = "the service is briefly unavailable (database); retry later"


@web.middleware
async def database_unavailable(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answer 503 (JSON under /api/, plain text elsewhere) when the database cannot be used.

    Logs the error's types only: a traceback could quote statement values.
    """
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as error:
        if not is_unavailable(error):
            raise
        log.warning("database.unavailable", path=request.path, error=describe(error))
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
        if request.path.startswith("/api/"):
            return web.json_response({"error": _API_ERROR}, status=503, headers=headers)
        return web.Response(status=503, text=_TEXT, headers=headers)
