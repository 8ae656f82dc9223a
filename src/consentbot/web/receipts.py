"""The person's signed receipts on the web, once their number is checked (docs/receipts.md).

``GET /s/{study}/receipts`` lists them in the person's language (dates in the study's
time zone, purposes by their titles); ``GET /s/{study}/receipts/{reference}.json`` gives
one as the signed JSON anyone can check with ``consentbot receipt verify``. A visitor
whose web session is not linked to a participant gets neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from babel import Locale
from babel.dates import format_datetime

from consentbot import keys
from consentbot.content.model import StudyText
from consentbot.conversation.messages import Say
from consentbot.i18n.translator import Translator
from consentbot.services.errors import UnknownStudy
from consentbot.services.receipts import IssuedReceipt
from consentbot.services.web_sessions import WebPage
from consentbot.web.negotiation import preferred_languages
from consentbot.web.security import COOKIE


@dataclass(frozen=True, slots=True)
class ReceiptRow:
    """One receipt as the page lists it."""

    reference: str
    issued: str
    lines: list[str]


async def _page(request: web.Request) -> WebPage:
    try:
        return await request.app[keys.WEB_SESSIONS].page(
            request.match_info["study"],
            request.cookies.get(COOKIE),
            preferred_languages(request.headers.get("Accept-Language")),
            "",
        )
    except UnknownStudy as error:
        raise web.HTTPNotFound(text=error.message) from None


async def _receipts(request: web.Request, page: WebPage) -> list[IssuedReceipt]:
    assert page.session is not None
    assert page.session.participant_id is not None
    return await request.app[keys.RECEIPTS].for_participant(page.session.participant_id)


def receipt_row(receipt: IssuedReceipt, say: Say, t: Translator, text: StudyText) -> ReceiptRow:
    """The receipt's reference, when it was issued, and what it records, in ``t``'s language."""
    issued = format_datetime(receipt.created_at, "long", tzinfo=say.zone, locale=t.locale).replace(
        "\u202f", " "
    )
    lines = []
    for service in receipt.document["processing"]["services"]:
        for purpose in service["purposes"]:
            if not purpose.get("changed"):
                continue
            shown = text.purposes.get(purpose["purpose"])
            title = shown.title if shown else purpose.get("purposeTitle", purpose["purpose"])
            lines.append(say.status_line(title, purpose["status"], None).removeprefix("- "))
    return ReceiptRow(receipt.reference, issued, lines)


def _context(request: web.Request, page: WebPage, rows: list[ReceiptRow]) -> dict[str, Any]:
    lexicon = request.app[keys.LEXICON]
    translator = lexicon.translator(page.language)
    locale = Locale.parse(page.language)
    return {
        "_": translator.gettext,
        "ltr": translator.isolate,
        "lang": page.language,
        "dir": "rtl" if locale.character_order == "right-to-left" else "ltr",
        "study": page.study,
        "title": page.study.text(page.language).title,
        "linked": page.linked,
        "receipts": rows,
    }


async def receipts_page(request: web.Request) -> web.StreamResponse:
    """``GET /s/{study}/receipts``: the list, or a refusal until the number is checked."""
    page = await _page(request)
    rows: list[ReceiptRow] = []
    if page.linked:
        lexicon = request.app[keys.LEXICON]
        translator = lexicon.translator(page.language)
        say = lexicon.say(page.language, page.study.timezone)
        text = page.study.text(page.language)
        rows = [receipt_row(r, say, translator, text) for r in await _receipts(request, page)]
    context = _context(request, page, rows)
    status = 200 if page.linked else 403
    response = aiohttp_jinja2.render_template("receipts.html", request, context, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def receipt_download(request: web.Request) -> web.StreamResponse:
    """``GET /s/{study}/receipts/{reference}.json``: one signed receipt, as issued."""
    page = await _page(request)
    _ = request.app[keys.LEXICON].translator(page.language).gettext
    if not page.linked:
        raise web.HTTPForbidden(
            text=_("To see your receipts, first check your mobile number on the study's page.")
        )
    wanted = request.match_info["reference"]
    for receipt in await _receipts(request, page):
        if receipt.reference == wanted:
            response = web.json_response(receipt.document)
            response.headers["Content-Disposition"] = f'attachment; filename="{wanted}.json"'
            response.headers["Cache-Control"] = "no-store"
            return response
    raise web.HTTPNotFound(text=_("You have no receipt with that reference."))


def receipt_web_routes() -> list[web.AbstractRouteDef]:
    """The receipts pages' routes."""
    return [
        web.get("/s/{study}/receipts", receipts_page),
        web.get("/s/{study}/receipts/{reference}.json", receipt_download),
    ]
