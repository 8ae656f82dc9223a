"""Reading one inbound message: which keyword, number, study or language it is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from consentbot.conversation.normalise import first_word, normalise
from consentbot.conversation.vocabulary import Command, Vocabulary


@dataclass(frozen=True, slots=True)
class Intent:
    """What a message means. Exactly one of the fields is set, or none (not understood)."""

    command: Command | None = None
    number: int | None = None
    study_keyword: str | None = None
    language: str | None = None


def parse(
    text: str,
    vocabulary: Vocabulary,
    study_keywords: Mapping[str, str],
    language_names: Mapping[str, str],
) -> Intent:
    """Read ``text``.

    ``study_keywords`` and ``language_names`` map normalised words to a study keyword
    and a language code. A message whose *first* word means STOP is a STOP, as
    carriers treat it; anything else must match as a whole, so "no idea" is not a NO.
    """
    folded = normalise(text)
    if not folded:
        return Intent()
    if vocabulary.commands.get(first_word(folded)) is Command.STOP:
        return Intent(command=Command.STOP)
    command = vocabulary.commands.get(folded)
    if command is not None:
        return Intent(command=command)
    if folded.isdigit() and len(folded) <= 3:
        return Intent(number=int(folded))
    if folded in study_keywords:
        return Intent(study_keyword=study_keywords[folded])
    if folded in language_names:
        return Intent(language=language_names[folded])
    return Intent()
