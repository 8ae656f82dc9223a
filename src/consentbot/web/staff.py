"""The /staff sub-application: its services, and the guard every /staff request passes.

Everything under /staff is behind :func:`staff_guard`: apart from the login and
set-password pages, a request needs a live staff session, and until the session has
passed its second factor (or set one up) it reaches only the pages that do that. Every
POST carries a CSRF token. Views then use :func:`staff_identity` and :func:`require_role`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from consentbot import keys
from consentbot.domain.staff import SessionStage
from consentbot.runtime import open_vault
from consentbot.services.clock import Clock
from consentbot.services.errors import SessionExpired
from consentbot.services.staff_access_log import StaffAccessLog
from consentbot.services.staff_accounts import StaffAccounts
from consentbot.services.staff_login import StaffLogin
from consentbot.settings import Settings
from consentbot.web import staff_views as views
from consentbot.web.security import csrf_ok
from consentbot.web.staff_assisted import add_assisted
from consentbot.web.staff_auth import IDENTITY, Handler, is_api, json_error
from consentbot.web.staff_callbacks import add_callbacks
from consentbot.web.staff_console import add_console
from consentbot.web.staff_i18n import translator
from consentbot.web.staff_print import add_print_routes
from consentbot.web.staff_security import STAFF_COOKIE, clear_staff_cookie, pre_session_form_ok

PUBLIC = frozenset({"staff-login", "staff-password"})
"""Routes for people with no session yet (their forms carry the pre-session token)."""
STAGE_ROUTES = {
    SessionStage.NEEDS_CODE: frozenset({"staff-code", "staff-logout"}),
    SessionStage.NEEDS_ENROLMENT: frozenset({"staff-totp", "staff-logout"}),
}
"""What a session that has not finished logging in may reach; anything else sends it there."""
STAGE_PAGE = {
    SessionStage.NEEDS_CODE: "/staff/login/code",
    SessionStage.NEEDS_ENROLMENT: "/staff/totp",
}


def add_staff(
    app: web.Application, settings: Settings, clock: Clock, *, run_background: bool = True
) -> None:
    """Mount /staff on ``app`` and build its services once the database is open."""

    async def services(app: web.Application) -> AsyncIterator[None]:
        db = app[keys.DATABASE]
        vault = open_vault(settings)
        app[keys.STAFF_ACCOUNTS] = StaffAccounts(db, clock, app[keys.STUDIES], settings.public_url)
        app[keys.STAFF_LOGIN] = StaffLogin(db, vault, clock)
        app[keys.STAFF_ACCESS] = StaffAccessLog(db, clock)
        yield

    # After the runtime's own context, which opens the database.
    app.cleanup_ctx.append(services)
    staff = web.Application(middlewares=[staff_guard])
    views.add_routes(staff.router)
    add_print_routes(staff.router)
    add_console(app, staff.router, clock)
    add_callbacks(app, staff.router, settings, clock)
    add_assisted(app, staff.router, run_background=run_background)
    app.add_subapp("/staff", staff)


def _refuse_unauthenticated(request: web.Request) -> web.HTTPException:
    if is_api(request):
        error = json_error(web.HTTPUnauthorized, "a staff session is needed")
    else:
        notice = "ended" if request.cookies.get(STAFF_COOKIE) else ""
        error = web.HTTPSeeOther("/staff/login" + (f"?notice={notice}" if notice else ""))
    if request.cookies.get(STAFF_COOKIE):
        clear_staff_cookie(error)
    return error


def _csrf_refused(request: web.Request) -> web.HTTPException:
    _ = translator(request).gettext
    return web.HTTPForbidden(
        text=_(
            "This form has expired or did not come from this site. Please go back, "
            "reload the page and try again."
        )
    )


@web.middleware
async def staff_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let a request through only with a session at the right stage and a valid CSRF token."""
    route = request.match_info.route.name
    if route in PUBLIC:
        if request.method == "POST":
            form = await request.post()
            if not pre_session_form_ok(request, form.get("csrf")):
                raise _csrf_refused(request)
        return await handler(request)
    try:
        identity = await request.config_dict[keys.STAFF_LOGIN].authenticate(
            request.cookies.get(STAFF_COOKIE)
        )
    except SessionExpired:
        raise _refuse_unauthenticated(request) from None
    if request.path == "/staff":
        raise web.HTTPSeeOther("/staff/")  # the sub-application's home is "/staff/"
    allowed = STAGE_ROUTES.get(identity.stage)
    if allowed is not None and route not in allowed:
        if is_api(request):
            raise json_error(web.HTTPUnauthorized, "finish logging in first")
        raise web.HTTPSeeOther(STAGE_PAGE[identity.stage])
    if request.method == "POST":
        form = await request.post()
        if not csrf_ok(identity.csrf, form.get("csrf")):
            raise _csrf_refused(request)
    request[IDENTITY] = identity
    response = await handler(request)
    response.headers["Cache-Control"] = "no-store"
    return response
