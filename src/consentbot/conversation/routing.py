"""Which study an SMS is about, when one number takes part in several.

Pure: the pipeline gives the reading of the message, the number's studies and the study
our last question or deadline was about; this decides. Leaving the wrong study is worse
than asking, so a WITHDRAW or CHANGE that could mean more than one study asks which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from consentbot.conversation.intents import Intent
from consentbot.conversation.vocabulary import Command

GLOBAL = frozenset({Command.STOP, Command.START})
"""About the number, not a study: STOP stops every message, whatever it names."""

AMBIGUOUS_WITHOUT_KEYWORD = frozenset({Command.WITHDRAW, Command.CHANGE})
"""Never guessed between studies: they ask which one instead."""

NEEDS_MEMBERSHIP = frozenset(
    {
        Command.NO,
        Command.CONFIRM,
        Command.CHOICES,
        Command.CHANGE,
        Command.WITHDRAW,
        Command.LATER,
        Command.CALL,
        Command.WHO,
    }
)
"""With a study keyword, these only make sense for a study the number takes part in."""


@dataclass(frozen=True, slots=True)
class Enrolment:
    """One study a number takes part in, as routing needs to know it."""

    participant_id: int
    keyword: str
    open: bool
    """Something is still to decide, change or withdraw: a yes pending or active, questions
    under way, or an invitation not answered yet."""
    erased: bool = False
    """Erased on request: takes no more turns."""


@dataclass(frozen=True, slots=True)
class ToParticipant:
    """The message is for this participant's conversation."""

    participant_id: int


@dataclass(frozen=True, slots=True)
class Join:
    """The number texted a study's keyword and is not in it yet: it joins, then carries on."""

    keyword: str


@dataclass(frozen=True, slots=True)
class AskWhichStudy:
    """It could mean more than one study: ask, naming each study's keyword, and change nothing."""

    command: Command | None
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EveryStudy:
    """CHOICES without a keyword, from a number in several studies: show every study's choices."""

    participant_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class NotJoined:
    """A command about a study the number has not joined ("WITHDRAW HIPS")."""

    keyword: str


@dataclass(frozen=True, slots=True)
class Erased:
    """The number's participation in this study was erased on request."""

    participant_id: int


@dataclass(frozen=True, slots=True)
class Stranger:
    """The number takes part in no study: STOP and START work, anything else gets a pointer."""


Route = ToParticipant | Join | AskWhichStudy | EveryStudy | NotJoined | Erased | Stranger


def route(intent: Intent, enrolments: Sequence[Enrolment], prompted: int | None) -> Route:
    """Decide where a message from a number with these ``enrolments`` goes.

    ``prompted`` is the participant of the last message we sent the number that asked
    something or gave a deadline (an invitation, a question, a reminder).
    """
    live = [e for e in enrolments if not e.erased]
    command = intent.command
    if intent.study_keyword is not None and command not in GLOBAL:
        return _by_keyword(intent.study_keyword, command, enrolments)
    if not live:
        return Stranger()
    if command in GLOBAL:
        return _default(live, prompted, command, ask_when_unsure=False)
    if command in AMBIGUOUS_WITHOUT_KEYWORD:
        still_open = [e for e in live if e.open]
        if len(still_open) > 1:
            return AskWhichStudy(command, tuple(e.keyword for e in still_open))
        if len(still_open) == 1:
            return ToParticipant(still_open[0].participant_id)
    if command is Command.CHOICES and len(live) > 1:
        return EveryStudy(tuple(e.participant_id for e in live))
    return _default(live, prompted, command, ask_when_unsure=True)


def _by_keyword(keyword: str, command: Command | None, enrolments: Sequence[Enrolment]) -> Route:
    found = next((e for e in enrolments if e.keyword == keyword), None)
    if found is None:
        return NotJoined(keyword) if command in NEEDS_MEMBERSHIP else Join(keyword)
    if found.erased:
        return Erased(found.participant_id)
    return ToParticipant(found.participant_id)


def _default(
    live: Sequence[Enrolment],
    prompted: int | None,
    command: Command | None,
    *,
    ask_when_unsure: bool,
) -> Route:
    by_prompt = next((e for e in live if e.participant_id == prompted), None)
    if by_prompt is not None:
        return ToParticipant(by_prompt.participant_id)
    if len(live) == 1 or not ask_when_unsure:
        return ToParticipant(live[-1].participant_id)
    return AskWhichStudy(command, tuple(e.keyword for e in live))
