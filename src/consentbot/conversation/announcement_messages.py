"""What an announcement looks like on the phone: the study team's words, framed in the
person's language so they know who writes and how to stop the texts."""

from __future__ import annotations

from consentbot.content.model import StudyText
from consentbot.conversation.messages import Say
from consentbot.conversation.shown import fill_keywords
from consentbot.conversation.vocabulary import Command


def announcement(say: Say, text: StudyText, body: str) -> str:
    """The SMS for one language: who it is from, the team's ``body`` (keyword placeholders
    such as ``{choices}`` filled in this language's words), and how to stop texts."""
    words = {command.value: say.v.word(command) for command in Command}
    # Translators: the first line of news or results a study sends; {title} is the study's name.
    head = say.t.gettext("News from {title}:").format(title=text.title)
    footer = say.t.gettext("Reply {stop} for no more texts.").format(stop=words[Command.STOP])
    return f"{head}\n{fill_keywords(body, words)}\n\n{footer}"


KEYWORD_PLACEHOLDERS = frozenset(command.value for command in Command)
"""The placeholders an announcement's text may hold: keywords, filled in each language."""
