"""STOP and START: who stopped messages to a number, and who may start them again."""

from __future__ import annotations

from enum import StrEnum


class StopSource(StrEnum):
    """Where a STOP came from. Values are stored on the contact."""

    SMS = "sms"
    """The person texted STOP from their phone."""
    WEB = "web"
    """The person asked for no messages on a web page linked to their number."""
    CARRIER = "carrier"
    """The carrier refuses our messages: the person sent STOP to the carrier itself."""


def can_lift_stop(stopped_by: StopSource | None, *, from_phone: bool) -> bool:
    """Whether a START may lift the current STOP.

    A STOP sent from the phone is the phone holder's decision, so only a START from
    that phone lifts it: a web session (perhaps on a shared computer) cannot. A START
    from the phone lifts any STOP.
    """
    if from_phone:
        return True
    return stopped_by not in (StopSource.SMS, StopSource.CARRIER)
