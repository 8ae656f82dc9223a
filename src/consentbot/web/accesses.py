"""``GET /s/{study}/accesses``: who used the person's data, for a verified web session only."""

from __future__ import annotations

import secrets

import aiohttp_jinja2
from aiohttp import web
from babel import Locale

from consentbot import keys
from consentbot.conversation import access_messages
from consentbot.services.errors import UnknownStudy
from consentbot.web.negotiation import preferred_languages
from consentbot.web.security import COOKIE, CSRF_COOKIE


async def accesses_page(request: web.Request) -> web.StreamResponse:
    """The same list WHO sends, as a page. 403 until the session's number is verified:
    an access list says that this person is in the study."""
    try:
        page = await request.app[keys.WEB_SESSIONS].page(
            request.match_info["study"],
            request.cookies.get(COOKIE),
            preferred_languages(request.headers.get("Accept-Language")),
            request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32),
        )
    except UnknownStudy as error:
        raise web.HTTPNotFound(text=error.message) from None
    lexicon = request.app[keys.LEXICON]
    translator = lexicon.translator(page.language)
    say = lexicon.say(page.language, page.study.timezone)
    text = page.study.text(page.language)
    titles = {purpose: item.title for purpose, item in text.purposes.items()}
    participant = page.session.participant_id if page.session is not None else None
    verified = page.linked and participant is not None
    lines = []
    if verified:
        assert participant is not None
        found = await request.app[keys.ACCESSES].of_participant(participant)
        lines = [access_messages.access_line(say, access, titles) for access in found]
    locale = Locale.parse(page.language)
    context = {
        "_": translator.gettext,
        "lang": page.language,
        "dir": "rtl" if locale.character_order == "right-to-left" else "ltr",
        "study": page.study,
        "title": text.title,
        "verified": verified,
        "lines": lines,
        "none_yet": access_messages.no_accesses(say),
    }
    response = aiohttp_jinja2.render_template(
        "accesses.html", request, context, status=200 if verified else 403
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def access_page_routes() -> list[web.RouteDef]:
    """The page's route."""
    return [web.get("/s/{study}/accesses", accesses_page)]
