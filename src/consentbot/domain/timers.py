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


class TimerStatus(StrEnum):
    """Where a timer is in its life. Values are stored in the database."""

    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


MESSAGE_TIMERS = frozenset({TimerKind.CONFIRM_REMINDER, TimerKind.LATER})
"""Timers that only send a message: a STOP or a withdrawal cancels them."""
