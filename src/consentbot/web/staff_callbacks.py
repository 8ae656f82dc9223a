"""``/staff/callbacks``: the queue of people who asked to be phoned back.

Study teams (their studies), admins and community workers (every study, logged) list open
and claimed requests, claim one, and finish it with an outcome. The phone number appears
only for the person who claimed the request, and each showing is in the access log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from consentbot import keys
from consentbot.domain.callbacks import CallbackOutcome, CallbackStatus
from consentbot.domain.staff import StaffRole
from consentbot.runtime import open_vault
from consentbot.services.callbacks import CallbackQueue, UnknownCallback
from consentbot.services.clock import Clock
from consentbot.services.errors import Conflict
from consentbot.settings import Settings
from consentbot.web.staff_auth import require_role, staff_identity
from consentbot.web.staff_i18n import base_context, translator
from consentbot.web.staff_views import STAFF_ZONE

CALLBACKS = web.AppKey("callback_queue", CallbackQueue)

QUEUE_ROLES = (StaffRole.ADMIN, StaffRole.STUDY_TEAM, StaffRole.COMMUNITY_WORKER)


def _outcome_names(_: Callable[[str], str]) -> dict[CallbackOutcome, str]:
    return {
        CallbackOutcome.REACHED: _("Spoke to the person"),
        CallbackOutcome.NO_ANSWER: _("No answer"),
        CallbackOutcome.WRONG_NUMBER: _("Wrong number"),
        CallbackOutcome.DECLINED_CALL: _("The person did not want the call"),
    }


def _notices(_: Callable[[str], str]) -> dict[str, str]:
    return {
        "claimed": _("You have taken this call-back. The number to call is shown below."),
        "done": _("The call-back is finished and has left the queue."),
    }


async def _page(
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.Response:
    identity = staff_identity(request)
    tr = translator(request)
    _ = tr.gettext
    entries = await request.config_dict[CALLBACKS].waiting(identity)
    context: dict[str, Any] = base_context(request) | {
        "csrf": identity.csrf,
        "entries": entries,
        "when": lambda moment: tr.date_and_time(moment, STAFF_ZONE),
        "language_name": tr.language_name,
        "ltr": tr.isolate,
        "open": CallbackStatus.OPEN,
        "outcomes": list(_outcome_names(_).items()),
        "notice": None if error else _notices(_).get(request.query.get("notice", "")),
        "error": error,
    }
    return aiohttp_jinja2.render_template("staff/callbacks.html", request, context, status=status)


def _request_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None


@require_role(*QUEUE_ROLES)
async def queue(request: web.Request) -> web.StreamResponse:
    """``GET /staff/callbacks``: open and claimed requests."""
    return await _page(request)


@require_role(*QUEUE_ROLES)
async def claim(request: web.Request) -> web.StreamResponse:
    """``POST /staff/callbacks/{id}/claim``: take a request."""
    request_id = _request_id(request)
    try:
        await request.config_dict[CALLBACKS].claim(staff_identity(request), request_id)
    except UnknownCallback:
        raise web.HTTPNotFound() from None
    except Conflict:
        _ = translator(request).gettext
        message = _("Someone else has already taken this call-back.")
        return await _page(request, error=message, status=409)
    raise web.HTTPSeeOther(f"/staff/callbacks?notice=claimed#request-{request_id}")


@require_role(*QUEUE_ROLES)
async def done(request: web.Request) -> web.StreamResponse:
    """``POST /staff/callbacks/{id}/done``: finish a request you took, with its outcome."""
    request_id = _request_id(request)
    form = await request.post()
    _ = translator(request).gettext
    try:
        outcome = CallbackOutcome(str(form.get("outcome", "")))
    except ValueError:
        return await _page(request, error=_("Please choose what happened."), status=400)
    note = form.get("note", "")
    try:
        await request.config_dict[CALLBACKS].done(
            staff_identity(request), request_id, outcome, note if isinstance(note, str) else ""
        )
    except UnknownCallback:
        raise web.HTTPNotFound() from None
    except Conflict:
        message = _("Only the person who took this call-back can finish it.")
        return await _page(request, error=message, status=409)
    raise web.HTTPSeeOther("/staff/callbacks?notice=done")


def add_callbacks(
    app: web.Application, router: web.UrlDispatcher, settings: Settings, clock: Clock
) -> None:
    """Build the queue service when ``app`` starts and register the queue's routes on ``router``."""

    async def service(app: web.Application) -> AsyncIterator[None]:
        app[CALLBACKS] = CallbackQueue(app[keys.DATABASE], open_vault(settings), clock)
        yield

    app.cleanup_ctx.append(service)
    router.add_resource("/callbacks", name="staff-callbacks").add_route("GET", queue)
    router.add_resource("/callbacks/{id}/claim", name="staff-callbacks-claim").add_route(
        "POST", claim
    )
    router.add_resource("/callbacks/{id}/done", name="staff-callbacks-done").add_route("POST", done)
