"""Security headers for every response, CSRF checks and the session cookie."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

COOKIE = "consentbot_session"
COOKIE_MAX_AGE = 7 * 24 * 3600
CSRF_COOKIE = "consentbot_csrf"
"""Before a visitor has a session, their page's CSRF token travels in this cookie too:
the first form must carry the same value (double submit), so no other site can make a
browser post it (and, say, have us text a code to a number of their choosing)."""

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A strict CSP (no inline script), no framing, no referrer (links carry personal tokens)."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        _apply(error)
        raise
    _apply(response)
    return response


def _apply(response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")


def csrf_ok(expected: str, given: object) -> bool:
    """Constant-time comparison of the form's token with the session's."""
    return isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())


def set_csrf_cookie(response: web.StreamResponse, token: str, *, secure: bool) -> None:
    """The pre-session CSRF token: HttpOnly, SameSite=Strict, for the browser session only."""
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, secure=secure, samesite="Strict", path="/"
    )


def set_session_cookie(response: web.StreamResponse, token: str, *, secure: bool) -> None:
    """HttpOnly, SameSite=Lax, Secure when served over HTTPS."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        secure=secure,
        samesite="Lax",
        path="/",
    )
