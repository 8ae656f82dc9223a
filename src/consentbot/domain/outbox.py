"""What the SMS outbox holds: the kinds of message and the life of each one."""

from __future__ import annotations

from enum import StrEnum

from consentbot.domain.timers import TimerKind


class OutboxKind(StrEnum):
    """Why a message is sent. Values are stored in the database."""

    REPLY = "reply"
    """An answer to a message the person has just sent."""
    VERIFICATION = "verification"
    """A one-time code the person asked for on the web."""
    INVITATION = "invitation"
    """The first message of a study."""
    CONFIRM_REMINDER = TimerKind.CONFIRM_REMINDER.value
    EXPIRY = TimerKind.EXPIRY.value
    LATER = TimerKind.LATER.value
    RECONSENT_EXPIRY = TimerKind.RECONSENT_EXPIRY.value
    STUDY_CHANGED = "study-changed"
    """What a newly published version changed, and (when it asks again) the question."""
    ASSISTED_RECEIPT = "assisted-receipt"
    """After an assisted session: what was recorded, and how to change it."""
    ANNOUNCEMENT = "announcement"
    """News or results the study team sends to those who said yes to ``updates``."""

    @classmethod
    def for_timer(cls, kind: TimerKind) -> OutboxKind:
        """The outbox kind of the message a timer sends."""
        return cls(kind.value)


PROACTIVE = frozenset(
    {
        OutboxKind.INVITATION,
        OutboxKind.STUDY_CHANGED,
        OutboxKind.ASSISTED_RECEIPT,
        OutboxKind.ANNOUNCEMENT,
        *(OutboxKind.for_timer(kind) for kind in TimerKind),
    }
)
"""Messages we start, rather than ones the person asked for: quiet hours hold them."""


class OutboxStatus(StrEnum):
    """Where a message is. Values are stored in the database."""

    PENDING = "pending"
    """Waiting to be sent (or to be retried)."""
    SENDING = "sending"
    """Handed to a dispatcher; never sent twice from here."""
    SENT = "sent"
    """The gateway accepted it."""
    FAILED = "failed"
    """The gateway refused it, or retries ran out."""
    SUPPRESSED = "suppressed"
    """Not sent: the number had sent STOP."""
    OPTED_OUT = "opted-out"
    """The carrier refused it: the person sent STOP at the carrier."""
    UNKNOWN = "unknown"
    """Stuck in ``sending`` after a crash: it may or may not have gone. Never resent by itself."""
    ERASED = "erased"
    """Not sent: the person's data was erased on request before it went."""
    NOT_WANTED = "not-wanted"
    """Not sent: an announcement whose ``updates`` consent ended before it went."""


SETTLED = frozenset(OutboxStatus) - {OutboxStatus.PENDING, OutboxStatus.SENDING}
"""Messages whose sending is over, one way or another: nothing sends them again by itself."""
