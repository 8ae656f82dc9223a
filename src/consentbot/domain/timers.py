"""The kinds of work the scheduler does later for a participant."""

from __future__ import annotations

from enum import StrEnum


class TimerKind(StrEnum):
    """Work the scheduler does later. Values are stored in the database."""

    CONFIRM_REMINDER = "confirm-reminder"
    """Cooling-off is over: ask the person to CONFIRM."""
    EXPIRY = "expiry"
    """The window to confirm closes: pending answers expire."""
    LATER = "later"
    """The person asked to be reminded later."""
    RECONSENT_EXPIRY = "reconsent-expiry"
    """The window to answer a question asked again after a change closes."""
    INVITATION = "invitation"
    """Send the study's first message. A cohort is stored at once, each person with one of
    these due at once; the scheduler then invites them through the turn pipeline, a few
    hundred per transaction, and the outbox paces the sending."""


class TimerStatus(StrEnum):
    """Where a timer is in its life. Values are stored in the database."""

    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


MESSAGE_TIMERS = frozenset({TimerKind.CONFIRM_REMINDER, TimerKind.LATER})
"""Timers that only send a message: a STOP or a withdrawal cancels them."""
