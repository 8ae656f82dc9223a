"""The printable explanation: ``GET /studies/{study}/print?lang=xx[&version=n][&large=1]``.

One page with the whole layered explanation of one published version in one language
(summary, every topic's summary and detail, every question with its explanation) and how
to check or change choices: the SMS words in that language, the study's web address
(never a personal link) and its phone number. It is public: it holds only the study's
text. Staff print the same page with a person's choices (web/staff_print.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from babel import Locale

from consentbot import keys
from consentbot.content.model import PurposeText, Study
from consentbot.conversation.callback_messages import hours_text
from consentbot.conversation.vocabulary import Command
from consentbot.domain.status import ConsentStatus
from consentbot.services.errors import UnknownStudy
from consentbot.services.printable import (
    PersonChoices,
    PrintedStudy,
    UnknownLanguage,
    printed_study,
)
from consentbot.services.versions import DamagedVersion, UnknownVersion

KEYWORDS: tuple[Command, ...] = (
    Command.CHOICES,
    Command.CHANGE,
    Command.CONFIRM,
    Command.WITHDRAW,
    Command.LATER,
    Command.HELP,
    Command.LANGUAGE,
    Command.STOP,
    Command.START,
)
"""The words the page lists, in this order: checking and changing first."""


@dataclass(frozen=True, slots=True)
class Question:
    """One question as printed: its text and whether a yes is needed to take part."""

    purpose_id: str
    text: PurposeText
    required: bool


def _keyword_meanings(_: Callable[[str], str]) -> dict[Command, str]:
    return {
        Command.CHOICES: _("see your choices"),
        Command.CHANGE: _("change your answers"),
        Command.CONFIRM: _("make your yes answers count, after your time to think"),
        Command.WITHDRAW: _("leave the study"),
        Command.LATER: _("remind me later"),
        Command.HELP: _("get help"),
        Command.LANGUAGE: _("choose another language"),
        Command.STOP: _("get no more messages"),
        Command.START: _("get messages again"),
    }


def status_labels(_: Callable[[str], str]) -> dict[ConsentStatus, str]:
    """Each status as the person reads it: the words the conversation uses for CHOICES."""
    return {
        ConsentStatus.NONE: _("not answered yet"),
        ConsentStatus.PENDING: _("yes, but it does not count until you confirm"),
        ConsentStatus.ACTIVE: _("yes"),
        ConsentStatus.DECLINED: _("no"),
        ConsentStatus.WITHDRAWN: _("no (you withdrew)"),
        ConsentStatus.EXPIRED: _("not confirmed in time, so it does not count"),
        ConsentStatus.RECONSENT_REQUIRED: _(
            "the study changed this, so your earlier yes does not count. Please answer again"
        ),
    }


def _sms_number(request: web.Request) -> str | None:
    """The number people text, when the gateway's settings name one."""
    settings = request.config_dict[keys.SETTINGS]
    if settings.sms_gateway == "twilio":
        return settings.twilio_from
    if settings.sms_gateway == "kannel":
        return settings.kannel_from
    return None


def study_address(request: web.Request, study: Study) -> str:
    """The study's public page: the same for everyone, so safe to print and share."""
    public = request.config_dict[keys.SETTINGS].public_url or str(request.url.origin())
    return f"{public}/s/{study.id}"


def _query(language: str, version: int, large: bool) -> str:
    return f"?lang={language}&version={version}" + ("&large=1" if large else "")


def page_context(
    request: web.Request, printed: PrintedStudy, *, large: bool, choices: PersonChoices | None
) -> dict[str, Any]:
    """What printable.html shows for ``printed`` (with ``choices`` on the staff page)."""
    study, language = printed.study, printed.language
    lexicon = request.config_dict[keys.LEXICON]
    translator = lexicon.translator(language)
    vocabulary = lexicon.vocabulary(language)
    _ = translator.gettext
    text = study.text(language)
    meanings = _keyword_meanings(_)
    keywords = [(translator.isolate(study.keyword), _("read about the study and answer"))] + [
        (translator.isolate(vocabulary.word(command)), meanings[command]) for command in KEYWORDS
    ]
    if study.callback_hours is not None:
        keywords.append(
            (
                translator.isolate(vocabulary.word(Command.CALL)),
                _("ask someone from the study to phone you back"),
            )
        )
    questions = [
        Question(purpose_id, text.purposes[purpose_id], study.is_required(purpose_id))
        for purpose_id in study.purpose_ids
    ]
    labels = status_labels(_)
    number = _sms_number(request)
    return {
        "_": _,
        "lang": language,
        "dir": "rtl" if Locale.parse(language).character_order == "right-to-left" else "ltr",
        "study": study,
        "text": text,
        "questions": questions,
        "keywords": keywords,
        "sms_line": (
            _("Send one of these words by text message to {number}:").format(
                number=translator.isolate(number)
            )
            if number
            else _("Send one of these words by text message to the number that texts you:")
        ),
        "web_line": _("On the web: {address}").format(
            address=translator.isolate(study_address(request, study))
        ),
        "phone_line": _("By phone: call {phone}. By email: {email}").format(
            phone=translator.isolate(study.contact.phone),
            email=translator.isolate(study.contact.email),
        ),
        "hours_line": (
            _("The study team phones people back: {hours}.").format(
                hours=hours_text(translator, study.callback_hours)
            )
            if study.callback_hours is not None
            else None
        ),
        "version_line": _("Version {version}").format(version=study.version),
        "large": large,
        "other_size": request.path + _query(language, study.version, not large),
        "choices": (
            [
                (text.purposes[purpose_id].title, labels[status])
                for purpose_id, status in choices.statuses.items()
            ]
            if choices is not None
            else None
        ),
    }


def wants_large(request: web.Request) -> bool:
    """``large=1`` asks for large print."""
    return request.query.get("large", "") in {"1", "true", "yes"}


async def load_printed(
    request: web.Request, study_id: str, default_language: str | None = None
) -> PrintedStudy:
    """The version and language the query asks for; 404 (with why) when there is none."""
    try:
        return await printed_study(
            request.config_dict[keys.VERSIONS],
            study_id,
            request.query.get("version"),
            request.query.get("lang") or default_language,
        )
    except (UnknownStudy, UnknownVersion, UnknownLanguage) as error:
        raise web.HTTPNotFound(text=error.message) from None
    except DamagedVersion:
        raise web.HTTPInternalServerError(
            text="This version cannot be printed: its stored text was changed after publishing."
        ) from None


def render(request: web.Request, context: dict[str, Any]) -> web.Response:
    """The page, from ``context`` (:func:`page_context`)."""
    return aiohttp_jinja2.render_template("printable.html", request, context)


async def print_page(request: web.Request) -> web.StreamResponse:
    """``GET /studies/{study}/print``: the public printable explanation."""
    printed = await load_printed(request, request.match_info["study"])
    return render(request, page_context(request, printed, large=wants_large(request), choices=None))


def printable_routes() -> list[web.AbstractRouteDef]:
    """The printable explanation's public route."""
    return [web.get("/studies/{study}/print", print_page)]
