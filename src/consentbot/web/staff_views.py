"""Handlers of the /staff pages and API: login, second factor, set-up, set password, home.

They call the staff services and render templates/staff/; the guard (web/staff.py) has
already checked the session, its stage and the CSRF token of every POST.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import segno
from aiohttp import web
from markupsafe import Markup

from consentbot import keys
from consentbot.domain.staff import MIN_PASSWORD_LENGTH, PasswordProblem, StaffRole
from consentbot.services.errors import CodeRejected
from consentbot.services.staff_errors import (
    LinkUnusable,
    LoginFailed,
    LoginLocked,
    PasswordRefused,
)
from consentbot.services.staff_login import StaffIdentity
from consentbot.web.client_address import client_address
from consentbot.web.staff_auth import require_role, staff_identity
from consentbot.web.staff_i18n import base_context, translator
from consentbot.web.staff_security import (
    STAFF_COOKIE,
    clear_staff_cookie,
    pre_session_token,
    remember_pre_session_token,
    set_staff_cookie,
)

STAFF_ZONE = ZoneInfo("Europe/London")
"""Lock-out times are given in UK time: where the service and its staff are."""


def _role_names(_: Callable[[str], str]) -> dict[StaffRole, str]:
    return {
        StaffRole.ADMIN: _("Administrator"),
        StaffRole.STUDY_TEAM: _("Study team"),
        StaffRole.COMMUNITY_WORKER: _("Community worker"),
    }


def _notices(_: Callable[[str], str]) -> dict[str, str]:
    """Messages the login page shows after a redirect, keyed by its ``notice``."""
    return {
        "password-set": _("Your password is set. You can log in now."),
        "logged-out": _("You have logged out."),
        "ended": _("Your session has ended. Please log in again."),
    }


def _password_problems(_: Callable[[str], str]) -> dict[PasswordProblem, str]:
    return {
        PasswordProblem.TOO_SHORT: _(
            "Please choose a password of at least {count} characters."
        ).format(count=MIN_PASSWORD_LENGTH),
        PasswordProblem.TOO_COMMON: _(
            "That password is too easy to guess. Please choose another one."
        ),
        PasswordProblem.MISMATCH: _("The two passwords are not the same. Please type them again."),
    }


def _locked_message(request: web.Request, error: LoginLocked) -> str:
    tr = translator(request)
    when = tr.date_and_time(error.until, STAFF_ZONE)
    return tr.gettext(
        "Too many attempts to log in, so logging in is paused for now. "
        "Please try again after {when} (UK time)."
    ).format(when=when)


def _render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    return aiohttp_jinja2.render_template(
        f"staff/{template}",
        request,
        base_context(request) | {"notice": None, "error": None} | context,
        status=status,
    )


def _client(request: web.Request) -> str:
    return client_address(
        request.remote, request.headers.get("X-Forwarded-For"), request.config_dict[keys.PROXIES]
    )


async def _form(request: web.Request) -> dict[str, str]:
    return {key: value for key, value in (await request.post()).items() if isinstance(value, str)}


def _login_page(
    request: web.Request, *, error: str | None = None, email: str = "", status: int = 200
) -> web.Response:
    csrf = pre_session_token(request)
    _ = translator(request).gettext
    notice = _notices(_).get(request.query.get("notice", ""))
    response = _render(
        request, "login.html", status, csrf=csrf, error=error, notice=notice, email=email
    )
    remember_pre_session_token(request, response, csrf)
    return response


async def login_page(request: web.Request) -> web.StreamResponse:
    """``GET /staff/login``: email and password."""
    return _login_page(request)


async def login(request: web.Request) -> web.StreamResponse:
    """``POST /staff/login``: check the password; a new session, then on to the next step."""
    form = await _form(request)
    email = form.get("email", "")
    _ = translator(request).gettext
    try:
        cookie = await request.config_dict[keys.STAFF_LOGIN].login(
            email, form.get("password", ""), _client(request)
        )
    except LoginLocked as error:
        return _login_page(request, error=_locked_message(request, error), email=email, status=429)
    except LoginFailed:
        message = _(
            "That email address and password do not match an account that can log in. "
            "Please check them and try again."
        )
        return _login_page(request, error=message, email=email, status=401)
    response = web.HTTPSeeOther("/staff/")
    set_staff_cookie(response, STAFF_COOKIE, cookie)
    raise response


async def code_page(request: web.Request) -> web.StreamResponse:
    """``GET /staff/login/code``: the code from the authenticator app."""
    return _render(request, "code.html", csrf=staff_identity(request).csrf, error=None)


async def check_code(request: web.Request) -> web.StreamResponse:
    """``POST /staff/login/code``."""
    identity = staff_identity(request)
    form = await _form(request)
    _ = translator(request).gettext
    try:
        await request.config_dict[keys.STAFF_LOGIN].check_code(
            identity, form.get("code", ""), _client(request)
        )
    except LoginLocked as error:
        message = _locked_message(request, error)
        return _render(request, "code.html", 429, csrf=identity.csrf, error=message)
    except CodeRejected:
        message = _(
            "That code is not right. Codes change every 30 seconds: "
            "please type the one your app shows now."
        )
        return _render(request, "code.html", 401, csrf=identity.csrf, error=message)
    raise web.HTTPSeeOther("/staff/")


def _qr(uri: str, title: str) -> Markup:
    """The set-up QR code as inline SVG, drawn here: the secret never leaves the server."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, title=title, svgclass="qr", dark="#000", light="#fff"
    )
    return Markup(svg)  # noqa: S704  (segno's own SVG; the title is our translated text)


async def _totp_page(
    request: web.Request, error: str | None = None, status: int = 200
) -> web.Response:
    identity = staff_identity(request)
    _ = translator(request).gettext
    if identity.totp_enrolled:
        return _render(request, "totp.html", enrolled=True, csrf=identity.csrf, error=None)
    enrolment = await request.config_dict[keys.STAFF_LOGIN].start_enrolment(identity)
    return _render(
        request,
        "totp.html",
        status,
        enrolled=False,
        required=identity.role.needs_totp,
        csrf=identity.csrf,
        error=error,
        qr=_qr(enrolment.uri, _("QR code for your authenticator app")),
        secret=" ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4)),
    )


async def totp_page(request: web.Request) -> web.StreamResponse:
    """``GET /staff/totp``: set up an authenticator app (required for admins and study teams)."""
    return await _totp_page(request)


async def finish_totp(request: web.Request) -> web.StreamResponse:
    """``POST /staff/totp``: a code from the new app confirms the set-up."""
    identity = staff_identity(request)
    if identity.totp_enrolled:
        raise web.HTTPSeeOther("/staff/")
    form = await _form(request)
    try:
        await request.config_dict[keys.STAFF_LOGIN].finish_enrolment(identity, form.get("code", ""))
    except CodeRejected:
        _ = translator(request).gettext
        message = _("That code is not right. Please type the code your app shows now.")
        return await _totp_page(request, message, 400)
    raise web.HTTPSeeOther("/staff/")


async def logout(request: web.Request) -> web.StreamResponse:
    """``POST /staff/logout``: end the session and forget the cookie."""
    await request.config_dict[keys.STAFF_LOGIN].logout(staff_identity(request))
    response = web.HTTPSeeOther("/staff/login?notice=logged-out")
    clear_staff_cookie(response)
    raise response


async def home(request: web.Request) -> web.StreamResponse:
    """``GET /staff/``: who you are and your role."""
    identity = staff_identity(request)
    _ = translator(request).gettext
    return _render(
        request,
        "home.html",
        identity=identity,
        role_name=_role_names(_)[identity.role],
        csrf=identity.csrf,
        offer_totp=not identity.totp_enrolled,
        links=_work_links(identity, sorted(request.config_dict[keys.STUDIES].studies), _),
    )


def _work_links(
    identity: StaffIdentity, every_study: list[str], _: Callable[[str], str]
) -> list[tuple[str, str]]:
    """The pages this person's role reaches: each study's console, assisted sessions, and
    the call-back queue."""
    links: list[tuple[str, str]] = []
    if identity.role is StaffRole.ADMIN or identity.role is StaffRole.STUDY_TEAM:
        studies = sorted(identity.studies) if identity.role is StaffRole.STUDY_TEAM else every_study
        for study in studies:
            links.append(
                (f"/staff/studies/{study}", _("Study console: {study}").format(study=study))
            )
    if identity.role is StaffRole.ADMIN or identity.role is StaffRole.COMMUNITY_WORKER:
        links.append(("/staff/assisted", _("Help someone in person")))
    links.append(("/staff/callbacks", _("People waiting for a call back")))
    return links


async def password_page(request: web.Request) -> web.StreamResponse:
    """``GET /staff/password/{token}``: choose a password, from the one-time link."""
    try:
        account = await request.config_dict[keys.STAFF_ACCOUNTS].link_account(
            request.match_info["token"]
        )
    except LinkUnusable:
        return _render(request, "link_expired.html", 410)
    return _password_form(request, account.email, None)


def _password_form(
    request: web.Request, email: str, error: str | None, status: int = 200
) -> web.Response:
    csrf = pre_session_token(request)
    response = _render(
        request,
        "password.html",
        status,
        csrf=csrf,
        email=email,
        error=error,
        minimum=MIN_PASSWORD_LENGTH,
    )
    remember_pre_session_token(request, response, csrf)
    response.headers["Cache-Control"] = "no-store"
    return response


async def set_password(request: web.Request) -> web.StreamResponse:
    """``POST /staff/password/{token}``: set it; the link then stops working."""
    form = await _form(request)
    accounts = request.config_dict[keys.STAFF_ACCOUNTS]
    token = request.match_info["token"]
    try:
        await accounts.set_password(token, form.get("password", ""), form.get("again", ""))
    except LinkUnusable:
        return _render(request, "link_expired.html", 410)
    except PasswordRefused as error:
        account = await accounts.link_account(token)
        message = _password_problems(translator(request).gettext)[error.problem]
        return _password_form(request, account.email, message, 400)
    raise web.HTTPSeeOther("/staff/login?notice=password-set")


async def api_me(request: web.Request) -> web.StreamResponse:
    """``GET /staff/api/me``: the staff member behind the session, as JSON."""
    identity = staff_identity(request)
    return web.json_response(
        {
            "email": identity.email,
            "role": identity.role.value,
            "studies": list(identity.studies),
            "organisation": identity.organisation,
        }
    )


@require_role(StaffRole.ADMIN)
async def api_access_log(request: web.Request) -> web.StreamResponse:
    """``GET /staff/api/access-log?limit=N&staff=EMAIL``: the newest entries (admins only)."""
    try:
        limit = max(1, min(1000, int(request.query.get("limit", "100"))))
    except ValueError:
        raise web.HTTPBadRequest(text="limit must be a whole number") from None
    entries = await request.config_dict[keys.STAFF_ACCESS].newest(limit, request.query.get("staff"))
    return web.json_response(
        [
            {
                "at": entry.occurred.isoformat(),
                "staff": entry.staff_email,
                "participant_id": entry.participant_id,
                "reason": entry.reason.value,
            }
            for entry in entries
        ]
    )


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the staff routes; the guard tells them apart by resource name."""
    pages: list[tuple[str, str, dict[str, Any]]] = [
        ("/", "staff-home", {"GET": home}),
        ("/login", "staff-login", {"GET": login_page, "POST": login}),
        ("/login/code", "staff-code", {"GET": code_page, "POST": check_code}),
        ("/totp", "staff-totp", {"GET": totp_page, "POST": finish_totp}),
        ("/logout", "staff-logout", {"POST": logout}),
        ("/password/{token}", "staff-password", {"GET": password_page, "POST": set_password}),
        ("/api/me", "staff-api-me", {"GET": api_me}),
        ("/api/access-log", "staff-api-access-log", {"GET": api_access_log}),
    ]
    for path, name, handlers in pages:
        resource = router.add_resource(path, name=name)
        for method, handler in handlers.items():
            resource.add_route(method, handler)
