"""What an audit of the ledger reports: faults, which fail it, and warnings, which do not."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is: a fault fails verification, a warning is only reported."""

    FAULT = "fault"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with a participant's ledger.

    ``seq`` and ``event_id`` name the event, when the finding is about one (None for
    the projection, or a participant that is gone).
    """

    severity: Severity
    seq: int | None
    event_id: int | None
    problem: str
