"""How long data kept only to run the service is kept, and when each kind is due for removal.

The ledger and consent are never on this list: they are the record of what people
decided and stay for the life of the study. What is here is working data: what
people typed on the web, the texts we sent, codes, and ids kept to recognise repeats.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

DEFAULT_PERIOD = timedelta(days=90)

MINIMUM_PERIOD = timedelta(days=1)
"""Shorter would break the service, not just forget sooner: code rate limits count the
codes of the last day, and gateways retry a message for hours."""


@dataclass(frozen=True, slots=True)
class RetentionPeriods:
    """How long each kind of working data is kept (CONSENTBOT_RETENTION_<FIELD>)."""

    web_transcripts: timedelta = DEFAULT_PERIOD
    """What was written on the web page, by the person and by us, counted from when."""
    web_sessions: timedelta = DEFAULT_PERIOD
    """A web session, counted from when it expired; also its one-time form ids."""
    outbox_bodies: timedelta = DEFAULT_PERIOD
    """The text of an SMS, counted from when it was settled (sent, failed, suppressed)."""
    verifications: timedelta = DEFAULT_PERIOD
    """A one-time code (hashed) and the number it went to, counted from when it was sent."""
    inbound_ids: timedelta = DEFAULT_PERIOD
    """A gateway's message id, kept to ignore the gateway's retries of the same message."""

    def too_short(self) -> list[str]:
        """The names of the periods under :data:`MINIMUM_PERIOD`, in field order."""
        return [f.name for f in fields(self) if getattr(self, f.name) < MINIMUM_PERIOD]


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """For each kind, the moment before which it is due for removal."""

    web_transcripts: datetime
    """Transcript lines written before this."""
    web_sessions: datetime
    """Sessions that expired before this (with everything that hangs off them)."""
    form_ids: datetime
    """One-time form ids used before this (the sessions' period)."""
    outbox_bodies: datetime
    """Bodies of messages settled before this."""
    verifications: datetime
    """Codes sent before this."""
    inbound_ids: datetime
    """Gateway message ids received before this."""


def cutoffs(periods: RetentionPeriods, now: datetime) -> Cutoffs:
    """What is due at ``now``: each kind's cut-off is ``now`` minus its period."""
    return Cutoffs(
        web_transcripts=now - periods.web_transcripts,
        web_sessions=now - periods.web_sessions,
        form_ids=now - periods.web_sessions,
        outbox_bodies=now - periods.outbox_bodies,
        verifications=now - periods.verifications,
        inbound_ids=now - periods.inbound_ids,
    )
