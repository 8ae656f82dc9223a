"""The words people can send: English always, plus each language's own through its catalog.

A catalog translates a keyword (context "keyword") to one word or several separated
by "/"; the first is the one the bot shows in its replies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType

from consentbot.conversation.normalise import normalise
from consentbot.i18n.translator import Translator


class Command(StrEnum):
    """A keyword's meaning."""

    MORE = "more"
    YES = "yes"
    NO = "no"
    CONFIRM = "confirm"
    CHOICES = "choices"
    CHANGE = "change"
    WITHDRAW = "withdraw"
    LATER = "later"
    HELP = "help"
    STOP = "stop"
    START = "start"
    LANGUAGE = "language"
    CALL = "call"
    """Ask the study team to phone back."""
    WHO = "who"
    """Who has used my data, when and what for."""


ENGLISH_WORDS: dict[Command, tuple[str, ...]] = {
    Command.MORE: ("MORE",),
    Command.YES: ("YES",),
    Command.NO: ("NO",),
    Command.CONFIRM: ("CONFIRM",),
    Command.CHOICES: ("CHOICES",),
    Command.CHANGE: ("CHANGE",),
    Command.WITHDRAW: ("WITHDRAW",),
    Command.LATER: ("LATER",),
    Command.HELP: ("HELP", "INFO"),
    Command.STOP: ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"),
    Command.START: ("START", "UNSTOP"),
    Command.LANGUAGE: ("LANGUAGE",),
    Command.CALL: ("CALL",),
    Command.WHO: ("WHO",),
}


def translated_words(t: Translator) -> dict[Command, tuple[str, ...]]:
    """A language's own words for each command, from its catalog."""
    raw = {
        Command.MORE: t.pgettext("keyword", "MORE"),
        Command.YES: t.pgettext("keyword", "YES"),
        Command.NO: t.pgettext("keyword", "NO"),
        Command.CONFIRM: t.pgettext("keyword", "CONFIRM"),
        Command.CHOICES: t.pgettext("keyword", "CHOICES"),
        Command.CHANGE: t.pgettext("keyword", "CHANGE"),
        Command.WITHDRAW: t.pgettext("keyword", "WITHDRAW"),
        Command.LATER: t.pgettext("keyword", "LATER"),
        Command.HELP: t.pgettext("keyword", "HELP"),
        Command.STOP: t.pgettext("keyword", "STOP"),
        Command.START: t.pgettext("keyword", "START"),
        Command.LANGUAGE: t.pgettext("keyword", "LANGUAGE"),
        Command.CALL: t.pgettext("keyword", "CALL"),
        Command.WHO: t.pgettext("keyword", "WHO"),
    }
    return {
        command: tuple(word.strip() for word in value.split("/") if word.strip())
        for command, value in raw.items()
    }


@dataclass(frozen=True)
class Vocabulary:
    """Keyword lookup for one language (its own words plus English)."""

    language: str
    commands: dict[str, Command]
    display: dict[Command, str]

    @classmethod
    def build(cls, t: Translator) -> Vocabulary:
        """The vocabulary for ``t``'s language."""
        own = translated_words(t)
        commands: dict[str, Command] = {}
        for words in (ENGLISH_WORDS, own):
            for command, synonyms in words.items():
                for word in synonyms:
                    commands.setdefault(normalise(word), command)
        display = {command: (own.get(command) or ENGLISH_WORDS[command])[0] for command in Command}
        return cls(t.language, commands, display)

    @cached_property
    def placeholders(self) -> Mapping[str, str]:
        """Each command's word by the command's name, as messages fill them in: built
        once per language, not for every message (a reminder's text names four)."""
        return MappingProxyType({command.value: self.display[command] for command in Command})

    def word(self, command: Command) -> str:
        """The word the bot tells people to send for ``command``, in this language."""
        return self.display[command]
