"""``/staff/assisted``: a community worker finds or registers a person, then helps them
through the study on the worker's tablet (services/assisted.py).

The study text is in the person's language, the controls in the worker's. CONFIRM is
never offered: the person confirms later from their own phone (cooling-off).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from consentbot import keys
from consentbot.conversation.vocabulary import Command
from consentbot.domain.provenance import ConfirmedVia
from consentbot.domain.staff import StaffRole
from consentbot.services.assisted import (
    AssistedSessions,
    BeforeLastChange,
    ConfirmLater,
    HelpedElsewhere,
    NothingToConfirm,
    NotYourSession,
    PersonNotFound,
    TooEarlyToConfirm,
    TooLateToConfirm,
)
from consentbot.services.assisted_receipts import ReceiptBy, run_lapsed_visits
from consentbot.services.errors import InvalidInput, UnknownStudy
from consentbot.web.staff_auth import require_role, staff_identity
from consentbot.web.staff_i18n import base_context, translator
from consentbot.web.staff_print import render_for_person
from consentbot.web.views import page_context

ASSISTED = web.AppKey("assisted_sessions", AssistedSessions)

ASSISTED_ROLES = (StaffRole.COMMUNITY_WORKER, StaffRole.ADMIN)

ASKING_REPLIES = (Command.YES, Command.NO, Command.MORE)
OTHER_REPLIES = (Command.MORE, Command.CHOICES, Command.HELP)
"""The quick replies of the session page: never CONFIRM (cooling-off)."""


def _form_errors(_: Callable[[str], str]) -> dict[str, str]:
    return {
        "not-found": _("Not found."),
        "elsewhere": _(
            "Another organisation helps the person of this number, so you cannot open "
            "their record. The study team can help them."
        ),
        "phone": _("That is not a phone number. Please check it and try again."),
        "agreed": _("Please ask the person whether they agree to be registered, and tick the box."),
        "language": _("Please choose a language the study offers."),
        "study": _("Please choose a study."),
    }


def _form(form: Any) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def _find_page(
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.Response:
    identity = staff_identity(request)
    tr = translator(request)
    catalogue = request.config_dict[keys.STUDIES]
    studies = [catalogue.get(study_id) for study_id in sorted(catalogue.studies)]
    context = base_context(request) | {
        "csrf": identity.csrf,
        "error": error,
        "studies": [study for study in studies if study is not None],
        # In the studies' own order (their default language first), each once.
        "languages": list(
            dict.fromkeys(
                code for study in studies if study is not None for code in study.languages
            )
        ),
        "language_name": tr.language_name,
    }
    return aiohttp_jinja2.render_template(
        "staff/assisted_find.html", request, context, status=status
    )


@require_role(*ASSISTED_ROLES)
async def find_page(request: web.Request) -> web.StreamResponse:
    """``GET /staff/assisted``: find a person by phone number, or register them."""
    return await _find_page(request)


async def _opened(request: web.Request, field: str, opening: Any) -> web.StreamResponse:
    """Run a find or register; on to the session page, or back to the form with the error."""
    errors = _form_errors(translator(request).gettext)
    try:
        participant_id = await opening
    except PersonNotFound:
        return await _find_page(request, error=errors["not-found"], status=404)
    except HelpedElsewhere:
        return await _find_page(request, error=errors["elsewhere"], status=403)
    except UnknownStudy:
        return await _find_page(request, error=errors["study"], status=400)
    except InvalidInput as error:
        message = errors.get(error.field or field, errors["phone"])
        return await _find_page(request, error=message, status=400)
    raise web.HTTPSeeOther(f"/staff/assisted/{participant_id}")


@require_role(*ASSISTED_ROLES)
async def find(request: web.Request) -> web.StreamResponse:
    """``POST /staff/assisted/find``: open a session with the person of that number."""
    form = _form(await request.post())
    service = request.config_dict[ASSISTED]
    opening = service.find(
        staff_identity(request),
        form.get("study", ""),
        form.get("phone", ""),
        bool(form.get("interpreter")),
    )
    return await _opened(request, "phone", opening)


@require_role(*ASSISTED_ROLES)
async def register(request: web.Request) -> web.StreamResponse:
    """``POST /staff/assisted/register``: register the person (they agreed), then open."""
    form = _form(await request.post())
    service = request.config_dict[ASSISTED]
    opening = service.register(
        staff_identity(request),
        form.get("study", ""),
        form.get("phone", ""),
        form.get("language", ""),
        agreed=bool(form.get("agreed")),
        interpreter=bool(form.get("interpreter")),
    )
    return await _opened(request, "phone", opening)


def _participant_id(request: web.Request) -> int:
    return int(request.match_info["id"])


@require_role(*ASSISTED_ROLES)
async def session_page(request: web.Request) -> web.StreamResponse:
    """``GET /staff/assisted/{id}``: the person's conversation, large print."""
    return await _session_page(request)


async def _session_page(
    request: web.Request,
    *,
    notice: str | None = None,
    status: int = 200,
    print_link: bool = False,
) -> web.Response:
    identity = staff_identity(request)
    try:
        shown = await request.config_dict[ASSISTED].page(identity, _participant_id(request))
    except NotYourSession:
        _ = translator(request).gettext
        raise web.HTTPForbidden(
            text=_("Find the person by their phone number first: this session is not yours.")
        ) from None
    page = shown.page
    lexicon = request.config_dict[keys.LEXICON]
    settings = request.config_dict[keys.SETTINGS]
    person = page_context(page, lexicon, settings.sms_regions, None)
    words = base_context(request)
    vocabulary = lexicon.vocabulary(page.language)
    replies = ASKING_REPLIES if page.state.asking is not None else OTHER_REPLIES
    _ = words["_"]
    context = (
        person
        | words
        | {
            "csrf": identity.csrf,
            "reply_lang": page.language,
            "person_dir": person["dir"],
            "person_label": _("The person"),
            "person_language": lexicon.translator(words["lang"]).language_name(page.language),
            "quick_replies": [
                (vocabulary.word(command), vocabulary.word(command)) for command in replies
            ],
            "participant_id": shown.participant_id,
            "reference": shown.reference,
            "interpreter": shown.interpreter,
            "notice": notice,
            "print_link": print_link,
            "can_record_confirmation": shown.can_record_confirmation,
            "timezone": shown.timezone,
            "confirmed_via": [
                (ConfirmedVia.IN_PERSON.value, _("In person")),
                (ConfirmedVia.PHONE_CALL.value, _("By a phone call")),
            ],
        }
    )
    return aiohttp_jinja2.render_template(
        "staff/assisted_session.html", request, context, status=status
    )


@require_role(*ASSISTED_ROLES)
async def say(request: web.Request) -> web.StreamResponse:
    """``POST /staff/assisted/{id}/messages``: what the person said, through the pipeline."""
    form = _form(await request.post())
    participant_id = _participant_id(request)
    try:
        await request.config_dict[ASSISTED].say(
            staff_identity(request),
            participant_id,
            form.get("form", ""),
            form.get("text", ""),
            form.get("question"),
        )
    except NotYourSession:
        return await _session_page(request)  # refuses with 403
    except ConfirmLater:
        _ = translator(request).gettext
        notice = _(
            "The person cannot confirm today. They think it over and confirm later from "
            "their own phone, by SMS or on the web page, or later in a recorded follow-up."
        )
        return await _session_page(request, notice=notice, status=409)
    raise web.HTTPSeeOther(f"/staff/assisted/{participant_id}#latest")


def _local_time(value: str) -> datetime | None:
    """A ``datetime-local`` field's value (no time zone: the study's), or None."""
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _confirmation_refused(_: Callable[[str], str], error: Exception) -> str:
    """The worker's message for a confirmation that cannot be recorded."""
    if isinstance(error, TooEarlyToConfirm):
        return _(
            "Not recorded: at that time the person was still within their time to think. "
            "A confirmation counts only once it has ended."
        )
    if isinstance(error, TooLateToConfirm):
        return _("Not recorded: at that time the person's answers had already lapsed.")
    if isinstance(error, NothingToConfirm):
        return _("Not recorded: no answer of the person waits to be confirmed.")
    if isinstance(error, BeforeLastChange):
        return _(
            "Not recorded: the person changed their answers after that time. A confirmation "
            "can only be recorded for a time after their last change."
        )
    assert isinstance(error, InvalidInput)
    if error.field == "note":
        return _("Not recorded: please write a note about how the person confirmed.")
    return _("Not recorded: please give the time the person confirmed. It cannot be in the future.")


@require_role(*ASSISTED_ROLES)
async def confirmation(request: web.Request) -> web.StreamResponse:
    """``POST /staff/assisted/{id}/confirmation``: the person confirmed in person or by phone.

    Recorded through the pipeline as CONFIRM, under the same cooling-off rule; a refusal
    changes nothing and says why.
    """
    form = _form(await request.post())
    participant_id = _participant_id(request)
    _ = translator(request).gettext
    at = _local_time(form.get("at", ""))
    try:
        via = ConfirmedVia(form.get("via", ""))
    except ValueError:
        return await _session_page(
            request, notice=_("Please choose how the person confirmed."), status=400
        )
    try:
        if at is None:
            raise InvalidInput("no time given", field="at")
        await request.config_dict[ASSISTED].record_confirmation(
            staff_identity(request),
            participant_id,
            form.get("form", ""),
            via,
            at,
            form.get("note", ""),
        )
    except NotYourSession:
        return await _session_page(request)  # refuses with 403
    except (
        InvalidInput,
        BeforeLastChange,
        TooEarlyToConfirm,
        TooLateToConfirm,
        NothingToConfirm,
    ) as error:
        status = 400 if isinstance(error, InvalidInput) else 409
        return await _session_page(request, notice=_confirmation_refused(_, error), status=status)
    raise web.HTTPSeeOther(f"/staff/assisted/{participant_id}#latest")


@require_role(*ASSISTED_ROLES)
async def finish(request: web.Request) -> web.StreamResponse:
    """``POST /staff/assisted/{id}/finish``: give the person what was recorded.

    By SMS in their language, or, with no usable phone (or a number that sent STOP), a
    link to print it for them.
    """
    form = _form(await request.post())
    participant_id = _participant_id(request)
    _ = translator(request).gettext
    try:
        by = await request.config_dict[ASSISTED].finish(
            staff_identity(request), participant_id, no_phone=bool(form.get("no_phone"))
        )
    except NotYourSession:
        return await _session_page(request)  # refuses with 403
    notices = {
        ReceiptBy.SMS: _("The person will get a text of what was recorded and how to change it."),
        ReceiptBy.PRINT: _("Print what was recorded for the person to take home."),
        ReceiptBy.STOPPED: _(
            "The person's number asked for no messages. Print what was recorded for them."
        ),
        ReceiptBy.NOTHING: _("Nothing has changed since the last receipt: nothing was sent."),
    }
    return await _session_page(
        request, notice=notices[by], print_link=by in (ReceiptBy.PRINT, ReceiptBy.STOPPED)
    )


@require_role(*ASSISTED_ROLES)
async def print_page(request: web.Request) -> web.StreamResponse:
    """``GET /staff/assisted/{id}/print``: the person's printable page, for the worker whose
    session it is (the staff print page is for the study's team).

    Logged with the reason ``print``, as every print of a person's choices.
    """
    identity = staff_identity(request)
    try:
        study_id, reference = await request.config_dict[ASSISTED].print_address(
            identity, _participant_id(request)
        )
    except NotYourSession:
        return await _session_page(request)  # refuses with 403
    return await render_for_person(request, identity, study_id, reference)


@require_role(*ASSISTED_ROLES)
async def interpreter(request: web.Request) -> web.StreamResponse:
    """``POST /staff/assisted/{id}/interpreter``: whether an interpreter is present."""
    form = _form(await request.post())
    participant_id = _participant_id(request)
    try:
        await request.config_dict[ASSISTED].set_interpreter(
            staff_identity(request), participant_id, form.get("interpreter") == "yes"
        )
    except NotYourSession:
        return await _session_page(request)  # refuses with 403
    raise web.HTTPSeeOther(f"/staff/assisted/{participant_id}")


def add_assisted(app: web.Application, router: web.UrlDispatcher, *, run_background: bool) -> None:
    """Build the assisted-session service when ``app`` starts; register its routes.

    With ``run_background``, visits left idle end on their own and send their receipt.
    """

    async def service(app: web.Application) -> AsyncIterator[None]:
        chat = app[keys.WEB_CHAT]
        assisted = AssistedSessions(chat.deps, chat.pipeline, chat.sessions)
        app[ASSISTED] = assisted
        if not run_background:
            yield
            return
        task = asyncio.create_task(run_lapsed_visits(assisted.receipts), name="assisted-visits")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.cleanup_ctx.append(service)
    routes: list[tuple[str, str, str, Any]] = [
        ("/assisted", "staff-assisted", "GET", find_page),
        ("/assisted/find", "staff-assisted-find", "POST", find),
        ("/assisted/register", "staff-assisted-register", "POST", register),
        (r"/assisted/{id:\d+}", "staff-assisted-session", "GET", session_page),
        (r"/assisted/{id:\d+}/messages", "staff-assisted-say", "POST", say),
        (r"/assisted/{id:\d+}/interpreter", "staff-assisted-interpreter", "POST", interpreter),
        (r"/assisted/{id:\d+}/confirmation", "staff-assisted-confirmation", "POST", confirmation),
        (r"/assisted/{id:\d+}/finish", "staff-assisted-finish", "POST", finish),
        (r"/assisted/{id:\d+}/print", "staff-assisted-print", "GET", print_page),
    ]
    for path, name, method, handler in routes:
        router.add_resource(path, name=name).add_route(method, handler)
