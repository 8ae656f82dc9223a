"""What a printed explanation must hold, and its HTML or PDF as plain text to look in."""

from __future__ import annotations

import html
import re
import unicodedata

from consentbot.content.model import Study
from consentbot.conversation.callback_messages import hours_text
from consentbot.conversation.vocabulary import Command
from tests.support.journey import translator, words

TAGS = re.compile(r"<[^>]+>")
SPACE = re.compile(r"\s+")
BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
KEYWORD_MEANINGS = (
    "see your choices",
    "change your answers",
    "make your yes answers count, after your time to think",
    "leave the study",
    "remind me later",
    "get help",
    "choose another language",
    "get no more messages",
    "get messages again",
    "read about the study and answer",
)
"""The msgids of the page's keyword lines (checked in the page's language)."""
COMMANDS = (
    Command.CHOICES, Command.CHANGE, Command.CONFIRM, Command.WITHDRAW, Command.LATER,
    Command.HELP, Command.LANGUAGE, Command.STOP, Command.START,
)


def flat(text: str) -> str:
    """Words only: no bidi marks, ligatures as their letters (a PDF's "fi" is one glyph),
    and any run of white space as one space."""
    return SPACE.sub(" ", unicodedata.normalize("NFKC", text.translate(BIDI_CONTROLS))).strip()


def page_text(page: str) -> str:
    """An HTML page's text, flattened."""
    return flat(html.unescape(TAGS.sub(" ", page)))


def expected_parts(study: Study, language: str) -> list[str]:
    """Every piece of text the page must show: the whole explanation and how to change."""
    text = study.text(language)
    _ = translator(language).gettext
    parts = [text.title, text.summary]
    for topic in text.topics:
        parts += [topic.title, topic.summary, *topic.detail.split("\n")]
    for purpose in study.purpose_ids:
        wording = text.purposes[purpose]
        parts += [wording.title, wording.question, *wording.explanation.split("\n")]
    vocabulary = words(language)
    parts += [study.keyword, *(vocabulary.word(command) for command in COMMANDS)]
    parts += [_(meaning) for meaning in KEYWORD_MEANINGS]
    parts += [study.contact.phone, study.contact.email, f"/s/{study.id}"]
    if study.callback_hours is not None:
        parts += [
            vocabulary.word(Command.CALL),
            _("ask someone from the study to phone you back"),
            _("The study team phones people back: {hours}.").format(
                hours=hours_text(translator(language), study.callback_hours)
            ),
        ]
    return [flat(part) for part in parts if flat(part)]


def missing(study: Study, language: str, shown: str, *, spaces: bool = True) -> list[str]:
    """The parts of the explanation ``shown`` (flattened text) lacks.

    ``spaces=False`` compares without white space: a PDF's text has a line break wherever
    a line was broken, also after a hyphen or a slash, where the text has no space.
    """
    if spaces:
        return [part for part in expected_parts(study, language) if part not in shown]
    packed = shown.replace(" ", "")
    return [part for part in expected_parts(study, language) if part.replace(" ", "") not in packed]
