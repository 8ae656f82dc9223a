"""What a turn of the conversation decides: replies, consent changes and effects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from consentbot.conversation.state import ConversationState
from consentbot.domain.status import ConsentStatus
from consentbot.domain.timers import TimerKind
from consentbot.domain.transitions import ConsentAction
from consentbot.domain.withdrawal import WithdrawalLevel


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send back. ``always`` marks the STOP and START confirmations,
    the only messages that go to a number that has sent STOP."""

    text: str
    always: bool = False


@dataclass(frozen=True, slots=True)
class ConsentChange:
    """One purpose's status changing: becomes one ledger event."""

    purpose: str
    action: ConsentAction
    from_status: ConsentStatus
    to_status: ConsentStatus
    withdrawal_level: WithdrawalLevel | None = None


@dataclass(frozen=True, slots=True)
class SetLanguage:
    """Use this language from now on, on every channel."""

    language: str


@dataclass(frozen=True, slots=True)
class StopMessages:
    """The number sent STOP."""


@dataclass(frozen=True, slots=True)
class StartMessages:
    """The number sent START."""


@dataclass(frozen=True, slots=True)
class RevokeLinks:
    """The person left (or stopped messages): their personal links open nothing any more."""


@dataclass(frozen=True, slots=True)
class ScheduleTimer:
    """Do ``kind`` at ``due_at`` (replacing any pending timer of the same kind)."""

    kind: TimerKind
    due_at: datetime


@dataclass(frozen=True, slots=True)
class CancelTimers:
    """Cancel pending timers of these kinds."""

    kinds: frozenset[TimerKind]


@dataclass(frozen=True, slots=True)
class RequestCallback:
    """The person asked to be phoned back: queue a call-back request for the study team."""


Effect = (
    SetLanguage
    | StopMessages
    | StartMessages
    | RevokeLinks
    | ScheduleTimer
    | CancelTimers
    | RequestCallback
)


@dataclass(frozen=True)
class Turn:
    """Everything one inbound message (or timer) leads to."""

    state: ConversationState
    replies: tuple[Reply, ...] = ()
    changes: tuple[ConsentChange, ...] = ()
    effects: tuple[Effect, ...] = field(default=())
    prompts: bool = False
    """The replies ask something or give a deadline (an invitation, a question, a reminder):
    a bare YES, NO or CONFIRM that comes back by SMS is about this study."""
