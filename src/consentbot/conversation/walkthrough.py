"""A whole study conversation, end to end, decided by the real engine: what a preview shows.

Pure: no database, no channel, nothing sent. The participant is built the way the
services build an invited one (no stored conversation, no consent rows), each
message is read with :meth:`Lexicon.read` as the pipeline reads it, and consent is
carried from turn to turn exactly as the ledger projects it
(:func:`consent_after`). The person says yes to every question, so the journey
reaches the cooling-off reply, the reminder and the confirmation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from consentbot.content.model import Study
from consentbot.conversation.engine import Context, invite, respond
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.outcome import ConsentChange, ScheduleTimer, Turn
from consentbot.conversation.proactive import on_timer
from consentbot.conversation.state import ConversationState
from consentbot.conversation.vocabulary import Command
from consentbot.domain.cooling_off import PurposeConsent
from consentbot.domain.status import ConsentStatus
from consentbot.domain.timers import TimerKind

THINKING_TIME = timedelta(minutes=1)
"""How long the person takes over each message they send (the clock is fixed otherwise)."""


class StepKind(StrEnum):
    """What started a step of the walkthrough."""

    INVITATION = "invitation"
    """The study's first message, as an invitation sends it."""
    SAID = "said"
    """The person sent a message."""
    REMINDER = "reminder"
    """The reminder timer fired: the time to think is over."""


@dataclass(frozen=True, slots=True)
class Step:
    """One turn of the conversation: what started it, when, and what the engine decided."""

    kind: StepKind
    at: datetime
    turn: Turn
    said: str | None = None
    """What the person sent (for :attr:`StepKind.SAID`)..."""
    command: Command | None = None
    """...and what it means."""


@dataclass(frozen=True)
class Walkthrough:
    """The whole conversation, and where it leaves the participant."""

    steps: tuple[Step, ...]
    state: ConversationState
    consent: Mapping[str, PurposeConsent]


class WalkthroughError(ValueError):
    """The conversation did not go as a preview expects (a keyword that does not read back)."""


def consent_after(
    consent: Mapping[str, PurposeConsent], changes: tuple[ConsentChange, ...], now: datetime
) -> dict[str, PurposeConsent]:
    """The consent a participant has once ``changes`` are recorded at ``now``.

    The same projection the ledger writes for each event (status, since, and the
    moment a yes started cooling off), so the next turn sees what the service would load.
    """
    after = dict(consent)
    for change in changes:
        pending = change.to_status is ConsentStatus.PENDING
        after[change.purpose] = PurposeConsent(change.to_status, now, now if pending else None)
    return after


class _Journey:
    """The participant as the services hold them between turns."""

    def __init__(self, study: Study, language: str, lexicon: Lexicon, start: datetime) -> None:
        self.study = study
        self.language = language
        self.lexicon = lexicon
        self.now = start
        self.state = ConversationState()
        self.consent: dict[str, PurposeConsent] = {}
        self.steps: list[Step] = []
        self.reminder_at: datetime | None = None

    def context(self) -> Context:
        return Context(
            self.study, self.language, self.lexicon, self.consent, self.now, stopped=False
        )

    def record(
        self, kind: StepKind, turn: Turn, said: str | None = None, command: Command | None = None
    ) -> Turn:
        self.steps.append(Step(kind, self.now, turn, said, command))
        self.consent = consent_after(self.consent, turn.changes, self.now)
        self.state = turn.state
        for effect in turn.effects:
            if isinstance(effect, ScheduleTimer) and effect.kind is TimerKind.CONFIRM_REMINDER:
                self.reminder_at = effect.due_at
        return turn

    def send(self, command: Command) -> Turn:
        """The person sends the word for ``command`` in their language, a minute later."""
        self.now += THINKING_TIME
        word = self.lexicon.vocabulary(self.language).word(command)
        intent = self.lexicon.read(word, [self.language], [self.study.id])
        if intent.command is not command:
            raise WalkthroughError(
                f"{word!r}, the {self.language} word for {command.value}, "
                f"does not read back as {command.value}"
            )
        turn = respond(self.context(), self.state, intent)
        return self.record(StepKind.SAID, turn, word, command)


def walk(
    study: Study, language: str, lexicon: Lexicon, start: datetime, link: str | None = None
) -> Walkthrough:
    """The conversation in ``language``, from the invitation (with ``link``, if any) at ``start``.

    Invitation; MORE for the topic list; MORE through each topic's summary and detail;
    YES; for each question, MORE for its explanation and YES; the reply that says the
    answers wait for the time to think; the reminder when the timer fires; CONFIRM and
    the confirmation. The reminder reaches the person when quiet hours allow, and
    they CONFIRM a minute later.
    """
    if language not in study.languages:
        raise WalkthroughError(f"{study.id} is not written in {language!r}")
    journey = _Journey(study, language, lexicon, start)
    journey.record(StepKind.INVITATION, invite(journey.context(), journey.state, link))
    journey.send(Command.MORE)
    for _topic in study.text(language).topics:
        journey.send(Command.MORE)
        journey.send(Command.MORE)
    journey.send(Command.YES)
    for _purpose in study.purpose_ids:
        journey.send(Command.MORE)
        journey.send(Command.YES)
    if journey.reminder_at is None:
        raise WalkthroughError("the answers scheduled no reminder")
    journey.now = max(journey.now, journey.reminder_at)
    journey.record(
        StepKind.REMINDER,
        on_timer(journey.context(), journey.state, TimerKind.CONFIRM_REMINDER),
    )
    if study.quiet_hours is not None:
        # The reminder waits for quiet hours to end; the person answers once it arrives.
        journey.now = study.quiet_hours.next_allowed(journey.now, study.timezone)
    journey.send(Command.CONFIRM)
    return Walkthrough(tuple(journey.steps), journey.state, journey.consent)
