"""Handlers for the web chat. They call the web chat service and render templates; no SQL."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp_jinja2
from aiohttp import web
from babel import Locale

from consentbot import keys
from consentbot.conversation.vocabulary import Command
from consentbot.domain.status import ConsentStatus
from consentbot.services.errors import (
    CodeRejected,
    InvalidInput,
    NumberStopped,
    RateLimited,
    ServiceError,
    SessionExpired,
    UnknownStudy,
)
from consentbot.services.web_chat import WebPage
from consentbot.web.negotiation import preferred_languages
from consentbot.web.security import COOKIE, csrf_ok, set_session_cookie

NOTICE_FOR: dict[type[ServiceError], str] = {
    CodeRejected: "code-wrong",
    RateLimited: "rate-limited",
    NumberStopped: "number-stopped",
    InvalidInput: "phone-invalid",
}


def _notices(_: Callable[[str], str]) -> dict[str, str]:
    """Messages shown after a form, keyed by the ``notice`` in the redirect (translated by ``_``)."""
    return {
        "code-wrong": _(
            "That code is not right, or it has run out. Please try again or ask for a new code."
        ),
        "rate-limited": _("We have sent too many codes. Please wait an hour and try again."),
        "number-stopped": _(
            "This number has asked us not to text it. Text START to us first, then try again."
        ),
        "phone-invalid": _(
            "That does not look like a mobile number. Please check it and try again."
        ),
        "code-sent": _("We have texted you a code. It works for 10 minutes."),
        "new-session": _("Your session had ended, so we started a new one."),
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


def _render(
    request: web.Request, page: WebPage, notice: str | None, status: int = 200
) -> web.Response:
    lexicon = request.app[keys.LEXICON]
    translator = lexicon.translator(page.language)
    vocabulary = lexicon.vocabulary(page.language)
    locale = Locale.parse(page.language)
    text = page.study.text(page.language)
    _ = translator.gettext
    quick = [
        (vocabulary.word(command), vocabulary.word(command)) for command in _quick_replies(page)
    ]
    context = {
        "_": _,
        "ngettext": translator.ngettext,
        "ltr": translator.isolate,
        "lang": page.language,
        "dir": "rtl" if locale.character_order == "right-to-left" else "ltr",
        "study": page.study,
        "text": text,
        "transcript": page.transcript,
        "quick_replies": quick,
        "languages": [(code, translator.language_name(code)) for code in page.study.languages],
        "csrf": page.session.csrf_token,
        "linked": page.linked,
        "verify": not page.linked and (page.session.waiting_text is not None or page.awaiting_code),
        "awaiting_code": page.awaiting_code,
        "notice": _notices(_).get(notice or ""),
        "last_id": page.transcript[-1].id if page.transcript else 0,
    }
    return aiohttp_jinja2.render_template("chat.html", request, context, status=status)


async def study_page(request: web.Request) -> web.StreamResponse:
    """``GET /s/{study}``: read anonymously, or continue a linked conversation."""
    service = request.app[keys.WEB_CHAT]
    study_id = request.match_info["study"]
    try:
        _opened, token = await service.open(
            study_id,
            request.cookies.get(COOKIE),
            preferred_languages(request.headers.get("Accept-Language")),
        )
    except UnknownStudy as error:
        raise web.HTTPNotFound(text=error.message) from None
    cookie = token or request.cookies.get(COOKIE, "")
    page = await service.page(cookie)
    notice = request.query.get("notice")
    if token and request.cookies.get(COOKIE):
        notice = notice or "new-session"
    response = _render(request, page, notice)
    if token:
        set_session_cookie(response, token, secure=_secure(request))
    response.headers["Cache-Control"] = "no-store"
    return response


async def _posted(request: web.Request) -> tuple[str, dict[str, str]]:
    """The session cookie and form of a POST, once its CSRF token is checked."""
    cookie = request.cookies.get(COOKIE)
    form = {key: value for key, value in (await request.post()).items() if isinstance(value, str)}
    if not cookie:
        raise web.HTTPSeeOther(f"/s/{request.match_info['study']}?notice=new-session")
    try:
        expected = await request.app[keys.WEB_CHAT].csrf_token(cookie)
    except SessionExpired:
        raise web.HTTPSeeOther(f"/s/{request.match_info['study']}?notice=new-session") from None
    if not csrf_ok(expected, form.get("csrf")):
        raise web.HTTPForbidden(
            text="This form has expired. Please go back, reload the page and try again."
        )
    return cookie, form


async def _after(
    request: web.Request, cookie: str, notice: str | None = None
) -> web.StreamResponse:
    """Without JavaScript: redirect (post/redirect/get). With it: the page, to swap in."""
    study_id = request.match_info["study"]
    if request.headers.get("X-Requested-With") == "consentbot":
        page = await request.app[keys.WEB_CHAT].page(cookie)
        response = _render(request, page, notice)
        response.headers["Cache-Control"] = "no-store"
        return response
    suffix = f"?notice={notice}" if notice else ""
    raise web.HTTPSeeOther(f"/s/{study_id}{suffix}#latest")


async def post_message(request: web.Request) -> web.StreamResponse:
    """``POST /s/{study}/messages``: what the person typed or the quick reply they chose."""
    cookie, form = await _posted(request)
    await request.app[keys.WEB_CHAT].say(cookie, form.get("text", ""))
    return await _after(request, cookie)


async def post_language(request: web.Request) -> web.StreamResponse:
    """``POST /s/{study}/language``: the language switcher."""
    cookie, form = await _posted(request)
    try:
        await request.app[keys.WEB_CHAT].set_language(cookie, form.get("language", ""))
    except InvalidInput:
        raise web.HTTPBadRequest(text="That language is not offered for this study.") from None
    return await _after(request, cookie)


async def post_phone(request: web.Request) -> web.StreamResponse:
    """``POST /s/{study}/verify``: text a code to the number given."""
    cookie, form = await _posted(request)
    try:
        await request.app[keys.WEB_CHAT].send_code(cookie, form.get("phone", ""))
    except (InvalidInput, RateLimited, NumberStopped) as error:
        return await _after(request, cookie, NOTICE_FOR[type(error)])
    return await _after(request, cookie, "code-sent")


async def post_code(request: web.Request) -> web.StreamResponse:
    """``POST /s/{study}/verify/code``: check the code and link the conversation."""
    cookie, form = await _posted(request)
    try:
        await request.app[keys.WEB_CHAT].check_code(cookie, form.get("code", ""))
    except CodeRejected:
        return await _after(request, cookie, "code-wrong")
    return await _after(request, cookie)


async def open_link(request: web.Request) -> web.StreamResponse:
    """``GET /i/{token}``: a personal link opens that participant's conversation."""
    try:
        session, token = await request.app[keys.WEB_CHAT].open_link(request.match_info["token"])
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
    response = web.HTTPSeeOther(f"/s/{session.study_id}")
    set_session_cookie(response, token, secure=_secure(request))
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
