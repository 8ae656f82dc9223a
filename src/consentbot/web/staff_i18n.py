"""The language of the staff pages: the browser's first choice we have a catalog for."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from babel import Locale

from consentbot import keys
from consentbot.i18n.translator import Translator
from consentbot.web.negotiation import preferred_languages


def staff_language(request: web.Request) -> str:
    """The first language in Accept-Language we have a catalog for; English otherwise."""
    lexicon = request.config_dict[keys.LEXICON]
    offered = lexicon.catalogs.languages()
    wanted = preferred_languages(request.headers.get("Accept-Language"))
    return next((code for code in wanted if code in offered), "en")


def translator(request: web.Request) -> Translator:
    """The staff pages' translator for this request."""
    return request.config_dict[keys.LEXICON].translator(staff_language(request))


def base_context(request: web.Request) -> dict[str, Any]:
    """What base.html needs: the translation functions, the language and its direction."""
    language = staff_language(request)
    locale = Locale.parse(language)
    words = translator(request)
    return {
        "_": words.gettext,
        "ngettext": words.ngettext,
        "lang": language,
        "dir": "rtl" if locale.character_order == "right-to-left" else "ltr",
    }
