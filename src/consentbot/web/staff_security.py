"""Staff cookies and CSRF tokens: the session cookie, and a pre-session token for the
login and set-password forms (double submit)."""

from __future__ import annotations

import secrets

from aiohttp import web

from consentbot.web.security import csrf_ok

STAFF_COOKIE = "consentbot_staff"
STAFF_CSRF_COOKIE = "consentbot_staff_csrf"
COOKIE_PATH = "/staff"


def set_staff_cookie(response: web.StreamResponse, name: str, value: str) -> None:
    """HttpOnly, Secure (always: staff pages are only for HTTPS), SameSite=Strict, for
    /staff only, and for the browser session only (the server ends idle sessions anyway)."""
    response.set_cookie(
        name, value, httponly=True, secure=True, samesite="Strict", path=COOKIE_PATH
    )


def clear_staff_cookie(response: web.StreamResponse) -> None:
    """Tell the browser to forget the session cookie."""
    response.del_cookie(STAFF_COOKIE, path=COOKIE_PATH, secure=True, samesite="Strict")


def pre_session_token(request: web.Request) -> str:
    """The login page's CSRF token: the one in the browser's cookie, or a new one."""
    return request.cookies.get(STAFF_CSRF_COOKIE) or secrets.token_urlsafe(32)


def remember_pre_session_token(
    request: web.Request, response: web.StreamResponse, token: str
) -> None:
    """Put ``token`` in the pre-session cookie unless it is there already."""
    if request.cookies.get(STAFF_CSRF_COOKIE) != token:
        set_staff_cookie(response, STAFF_CSRF_COOKIE, token)


def pre_session_form_ok(request: web.Request, given: object) -> bool:
    """A pre-session form carries the same token as the cookie (another site can read neither)."""
    expected = request.cookies.get(STAFF_CSRF_COOKIE)
    return expected is not None and csrf_ok(expected, given)
