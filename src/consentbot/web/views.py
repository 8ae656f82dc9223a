"""Handlers for the web chat. They call the web services and render templates; no SQL."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from babel import Locale

from consentbot import keys
from consentbot.content.model import StudyText
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.messages import Say
from consentbot.conversation.vocabulary import Command
from consentbot.domain.status import ConsentStatus
from consentbot.services.errors import (
    CodeRejected,
    InvalidInput,
    SessionExpired,
    UnknownStudy,
)
from consentbot.services.verification import CodeLimitReached, Limit
from consentbot.services.web_chat import Action, Posted
from consentbot.services.web_sessions import WebPage
from consentbot.web.client_address import client_address
from consentbot.web.negotiation import preferred_languages
from consentbot.web.security import (
    COOKIE,
    CSRF_COOKIE,
    csrf_ok,
    set_csrf_cookie,
    set_session_cookie,
)

NOTICE_FOR_LIMIT = {
    Limit.SESSION: "rate-limited",
    Limit.ADDRESS: "rate-limited",
    Limit.SERVICE: "busy",
}


def _notices(_: Callable[[str], str], keyword: str, places: str) -> dict[str, str]:
    """Messages shown after a form, keyed by the ``notice`` in the redirect (translated by ``_``)."""
    return {
        "code-wrong": _(
            "That code is not right, or it has run out. Please try again or ask for a new code."
        ),
        "rate-limited": _("We have sent too many codes. Please wait an hour and try again."),
        "busy": _(
            "Many people are asking for codes just now, so we have paused them. Please try "
            "again in an hour, or text {keyword} from your phone to the number in your "
            "invitation."
        ).format(keyword=keyword),
        "phone-invalid": _(
            "We can only text mobile numbers from {places}. Please check the number and try again."
        ).format(places=places),
        "code-sent": _(
            "If we can text that number, we have sent it a code. It works for 10 minutes."
        ),
        "new-session": _("Your session had ended, so we started a new one."),
        "link-elsewhere": _(
            "This personal link was first opened in another browser. To carry on here, "
            "we will text you a code to check your number."
        ),
    }


def _secure(request: web.Request) -> bool:
    public = request.app[keys.SETTINGS].public_url or ""
    return request.secure or public.startswith("https://")


def _quick_replies(page: WebPage) -> list[Command]:
    if page.state.asking is not None:
        return [Command.YES, Command.NO, Command.MORE]
    statuses = set(page.consent_statuses.values())
    if ConsentStatus.PENDING in statuses:
        return [Command.CONFIRM, Command.CHOICES, Command.WITHDRAW, Command.HELP]
    if statuses & {ConsentStatus.ACTIVE, ConsentStatus.DECLINED}:
        return [Command.CHOICES, Command.CHANGE, Command.WITHDRAW, Command.HELP]
    return [Command.MORE, Command.YES, Command.HELP]


def _changed(page: WebPage, text: StudyText, say: Say) -> str | None:
    """What changed, as the person reads it, when the study asks them again (only they see
    it: linked), under a note when it is not in their language."""
    if not page.linked or ConsentStatus.RECONSENT_REQUIRED not in page.consent_statuses.values():
        return None
    if text.changes is None:
        return None
    note = say.untranslated_note(text, "changes")
    return f"{note} {text.changes}" if note else text.changes


def _render(
    request: web.Request, page: WebPage, notice: str | None, status: int = 200
) -> web.Response:
    context = page_context(
        page, request.app[keys.LEXICON], request.app[keys.SETTINGS].sms_regions, notice
    )
    return aiohttp_jinja2.render_template("chat.html", request, context, status=status)


def page_context(
    page: WebPage, lexicon: Lexicon, sms_regions: Sequence[str], notice: str | None
) -> dict[str, Any]:
    """What chat.html shows for ``page``, in the page's language (also used by previews)."""
    translator = lexicon.translator(page.language)
    vocabulary = lexicon.vocabulary(page.language)
    locale = Locale.parse(page.language)
    say = lexicon.say(page.language, page.study.timezone)
    text = say.shown(page.study.text(page.language))
    _ = translator.gettext
    places = translator.either([locale.territories.get(r.upper(), r) for r in sms_regions])
    quick = [
        (vocabulary.word(command), vocabulary.word(command)) for command in _quick_replies(page)
    ]
    return {
        "_": _,
        "ngettext": translator.ngettext,
        "ltr": translator.isolate,
        "lang": page.language,
        "dir": "rtl" if locale.character_order == "right-to-left" else "ltr",
        "study": page.study,
        "text": text,
        "untranslated": say.untranslated_note(text),
        "transcript": page.transcript,
        "quick_replies": quick,
        "call_word": vocabulary.word(Command.CALL),
        "languages": [(code, translator.language_name(code)) for code in page.study.languages],
        "csrf": page.csrf,
        "form_id": page.form_id,
        "question": page.state.question_id,
        "linked": page.linked,
        "verify": not page.linked and (page.waiting or page.awaiting_code),
        "awaiting_code": page.awaiting_code,
        "notice": _notices(_, translator.isolate(page.study.keyword), places).get(notice or ""),
        "changed": _changed(page, text, say),
        "asking": text.purposes.get(page.state.asking or ""),
        "last_id": page.transcript[-1].id if page.transcript else 0,
    }


async def study_page(request: web.Request) -> web.StreamResponse:
    """``GET /s/{study}``: read anonymously, or continue a conversation. Writes nothing."""
    cookie = request.cookies.get(COOKIE)
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    try:
        page = await request.app[keys.WEB_SESSIONS].page(
            request.match_info["study"],
            cookie,
            preferred_languages(request.headers.get("Accept-Language")),
            csrf,
        )
    except UnknownStudy as error:
        raise web.HTTPNotFound(text=error.message) from None
    notice = request.query.get("notice")
    if cookie and page.session is None:
        notice = notice or "new-session"
    response = _render(request, page, notice)
    if page.session is None and request.cookies.get(CSRF_COOKIE) != csrf:
        set_csrf_cookie(response, csrf, secure=_secure(request))
    response.headers["Cache-Control"] = "no-store"
    return response


async def _posted(request: web.Request, action: Action, field: str) -> Posted:
    """A form, once its CSRF token is shown to be the page's own."""
    study_id = request.match_info["study"]
    cookie = request.cookies.get(COOKIE)
    form = {key: value for key, value in (await request.post()).items() if isinstance(value, str)}
    expected = await request.app[keys.WEB_SESSIONS].csrf_of(study_id, cookie) if cookie else None
    if expected is None:
        # No session yet (or it ended): the page carried the pre-session token in a cookie.
        expected = request.cookies.get(CSRF_COOKIE)
        if expected is None:
            raise web.HTTPSeeOther(f"/s/{study_id}?notice=new-session")
    if not csrf_ok(expected, form.get("csrf")) or not form.get("form"):
        raise web.HTTPForbidden(
            text="This form has expired. Please go back, reload the page and try again."
        )
    return Posted(
        study_id=study_id,
        cookie=cookie,
        csrf=expected,
        form_id=form["form"],
        action=action,
        value=form.get(field, ""),
        question=form.get("question"),
        client=client_address(
            request.remote, request.headers.get("X-Forwarded-For"), request.app[keys.PROXIES]
        ),
        language=form.get("lang", ""),
    )


async def _act(request: web.Request, action: Action, field: str) -> web.StreamResponse:
    posted = await _posted(request, action, field)
    notice: str | None = "code-sent" if action is Action.SEND_CODE else None
    cookie = posted.cookie
    try:
        handled = await request.app[keys.WEB_CHAT].handle(posted)
        cookie = handled.cookie or cookie
        if handled.repeated:
            notice = None
    except CodeLimitReached as error:
        notice = NOTICE_FOR_LIMIT[error.limit]
    except CodeRejected:
        notice = "code-wrong"
    except InvalidInput as error:
        if action is Action.LANGUAGE:
            raise web.HTTPBadRequest(text="That language is not offered for this study.") from None
        notice = "phone-invalid" if error.field == "phone" else None
    except SessionExpired:
        raise web.HTTPSeeOther(f"/s/{posted.study_id}?notice=new-session") from None
    return await _after(request, posted, cookie, notice)


async def _after(
    request: web.Request, posted: Posted, cookie: str | None, notice: str | None
) -> web.StreamResponse:
    """Without JavaScript: redirect (post/redirect/get). With it: the page, to swap in."""
    response: web.StreamResponse
    if request.headers.get("X-Requested-With") == "consentbot":
        page = await request.app[keys.WEB_SESSIONS].page(posted.study_id, cookie, [], posted.csrf)
        response = _render(request, page, notice)
        response.headers["Cache-Control"] = "no-store"
    else:
        suffix = f"?notice={notice}" if notice else ""
        response = web.HTTPSeeOther(f"/s/{posted.study_id}{suffix}#latest")
    if cookie and cookie != posted.cookie:
        set_session_cookie(response, cookie, secure=_secure(request))
    if isinstance(response, web.HTTPException):
        raise response
    return response


async def post_message(request: web.Request) -> web.StreamResponse:
    """``POST /s/{study}/messages``: what the person typed or the quick reply they chose."""
    return await _act(request, Action.SAY, "text")


async def post_language(request: web.Request) -> web.StreamResponse:
    """``POST /s/{study}/language``: the language switcher."""
    return await _act(request, Action.LANGUAGE, "language")


async def post_phone(request: web.Request) -> web.StreamResponse:
    """``POST /s/{study}/verify``: text a code to the number given."""
    return await _act(request, Action.SEND_CODE, "phone")


async def post_code(request: web.Request) -> web.StreamResponse:
    """``POST /s/{study}/verify/code``: check the code and link the conversation."""
    return await _act(request, Action.CHECK_CODE, "code")


async def open_link(request: web.Request) -> web.StreamResponse:
    """``GET /i/{token}``: a personal link opens its conversation, in one browser only."""
    try:
        opened = await request.app[keys.WEB_SESSIONS].open_link(
            request.match_info["token"], request.cookies.get(COOKIE)
        )
    except SessionExpired:
        lexicon = request.app[keys.LEXICON]
        wanted = preferred_languages(request.headers.get("Accept-Language"))
        language = next((code for code in wanted if code in lexicon.catalogs.languages()), "en")
        locale = Locale.parse(language)
        context = {
            "_": lexicon.translator(language).gettext,
            "lang": language,
            "dir": "rtl" if locale.character_order == "right-to-left" else "ltr",
        }
        return aiohttp_jinja2.render_template("link_expired.html", request, context, status=404)
    suffix = "?notice=link-elsewhere" if opened.elsewhere else ""
    response = web.HTTPSeeOther(f"/s/{opened.study_id}{suffix}")
    if opened.cookie:
        set_session_cookie(response, opened.cookie, secure=_secure(request))
    response.headers["Cache-Control"] = "no-store"
    raise response


def web_routes() -> list[web.AbstractRouteDef]:
    """The web chat's routes."""
    return [
        web.get("/s/{study}", study_page),
        web.post("/s/{study}/messages", post_message),
        web.post("/s/{study}/language", post_language),
        web.post("/s/{study}/verify", post_phone),
        web.post("/s/{study}/verify/code", post_code),
        web.get("/i/{token}", open_link),
    ]
