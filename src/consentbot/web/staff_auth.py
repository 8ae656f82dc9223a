"""Who is behind a staff request, and the role check views use."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from consentbot.domain.staff import StaffRole
from consentbot.services.staff_login import StaffIdentity
from consentbot.web.staff_i18n import translator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

IDENTITY = web.RequestKey("staff_identity", StaffIdentity)


def is_api(request: web.Request) -> bool:
    """Whether the request is for the staff JSON API (answered in JSON, never redirected)."""
    return request.path.startswith("/staff/api/")


def json_error(error: type[web.HTTPException], message: str) -> web.HTTPException:
    """An HTTP error with a JSON body ``{"error": message}``."""
    return error(text=web.json_response({"error": message}).text, content_type="application/json")


def staff_identity(request: web.Request) -> StaffIdentity:
    """The staff member behind a request that passed the guard (web/staff.py)."""
    return request[IDENTITY]


def require_role(*roles: StaffRole) -> Callable[[Handler], Handler]:
    """Refuse (403) a view to anyone whose role is not one of ``roles``."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            if staff_identity(request).role not in roles:
                if is_api(request):
                    raise json_error(web.HTTPForbidden, "your role may not use this")
                _ = translator(request).gettext
                raise web.HTTPForbidden(text=_("Your role does not give you access to this page."))
            return await handler(request)

        return checked

    return decorate
