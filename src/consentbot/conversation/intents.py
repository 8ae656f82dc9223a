"""Reading one inbound message: which keyword, number, study or language it is.

A message is read once, before anything else happens to it: the same reading routes it to
a study and drives the conversation. Words that change consent must be unmistakable, so a
yes/no word with a question mark, with other words around it, or shortened to one letter
is a near miss: the person is told the exact word to send, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from consentbot.conversation.normalise import first_word, normalise
from consentbot.conversation.vocabulary import Command, Vocabulary

QUESTION_MARKS = frozenset("?؟;\u037e\uff1f\u2e2e")
"""Question marks: Latin, Arabic/Urdu, Greek (";" and its own code point), full-width,
and the reversed one. A message ending in one asks something; it never answers."""

ANSWERS = frozenset({Command.YES, Command.NO})
"""Words that answer a question: only ever taken when they stand alone and unquestioned."""

CHANGES_CONSENT = frozenset({Command.YES, Command.NO, Command.CONFIRM, Command.WITHDRAW})
"""Words whose meaning, if misread, would change someone's consent."""

LETTERS = {"y": Command.YES, "n": Command.NO}
"""One-letter answers: common by SMS, but too easy to send by mistake to count."""


class Miss(StrEnum):
    """Why a message that looks like a consent word was not taken as one."""

    QUESTION = "question"
    """It ends with a question mark ("YES?", "جی؟")."""
    EXTRA_WORDS = "extra-words"
    """The word came with other words ("yes please", "ok no")."""
    LETTER = "letter"
    """Only the first letter was sent ("Y", "N")."""


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A message that looks like ``command`` but is not clear enough to act on."""

    command: Command
    why: Miss


@dataclass(frozen=True, slots=True)
class Intent:
    """What a message means.

    ``command`` may come with ``study_keyword`` ("WITHDRAW JOINTS"): the command acts on that
    study. Otherwise at most one field is set; none means not understood.
    """

    command: Command | None = None
    number: int | None = None
    study_keyword: str | None = None
    language: str | None = None
    near_miss: NearMiss | None = None

    @property
    def is_answer(self) -> bool:
        """True for a plain YES or NO: an answer to whatever question was asked."""
        return self.command in ANSWERS


def parse(
    text: str,
    vocabulary: Vocabulary,
    study_keywords: Mapping[str, str],
    language_names: Mapping[str, str],
) -> Intent:
    """Read ``text``.

    ``study_keywords`` and ``language_names`` map normalised words to a study keyword and a
    language code. A message whose *first* word means STOP is a STOP, as carriers treat it;
    anything else must match as a whole, so "no idea" is not a NO. A command may carry a
    study keyword before or after it ("WITHDRAW JOINTS", "JOINTS WITHDRAW").
    """
    asked = _ends_with_question_mark(text)
    folded = normalise(text)
    if not folded:
        return Intent()
    commands = vocabulary.commands
    if commands.get(first_word(folded)) is Command.STOP:
        return Intent(command=Command.STOP)
    command = commands.get(folded)
    if command is not None:
        return _unless_questioned(Intent(command=command), asked)
    with_keyword = _command_with_keyword(folded, commands, study_keywords)
    if with_keyword is not None:
        return _unless_questioned(with_keyword, asked)
    if folded.isdigit() and len(folded) <= 3:
        return Intent(number=int(folded))
    if folded in study_keywords:
        return Intent(study_keyword=study_keywords[folded])
    if folded in language_names:
        return Intent(language=language_names[folded])
    return Intent(near_miss=_near_miss(folded, commands))


def _ends_with_question_mark(text: str) -> bool:
    stripped = text.rstrip()
    return bool(stripped) and stripped[-1] in QUESTION_MARKS


def _unless_questioned(intent: Intent, asked: bool) -> Intent:
    if asked and intent.command in CHANGES_CONSENT:
        assert intent.command is not None
        return Intent(near_miss=NearMiss(intent.command, Miss.QUESTION))
    return intent


def _command_with_keyword(
    folded: str, commands: Mapping[str, Command], study_keywords: Mapping[str, str]
) -> Intent | None:
    head, _, rest = folded.partition(" ")
    tail_rest, _, tail = folded.rpartition(" ")
    if head in study_keywords and rest in commands:
        return Intent(command=commands[rest], study_keyword=study_keywords[head])
    if tail in study_keywords and tail_rest in commands:
        return Intent(command=commands[tail_rest], study_keyword=study_keywords[tail])
    return None


def _near_miss(folded: str, commands: Mapping[str, Command]) -> NearMiss | None:
    """A yes/no word inside a longer message, or a bare letter: worth a precise hint."""
    if folded in LETTERS:
        return NearMiss(LETTERS[folded], Miss.LETTER)
    words = folded.split(" ")
    found = {
        command
        for start in range(len(words))
        for end in range(start + 1, len(words) + 1)
        if (command := commands.get(" ".join(words[start:end]))) in ANSWERS
    }
    if len(found) == 1:
        return NearMiss(found.pop(), Miss.EXTRA_WORDS)
    return None
