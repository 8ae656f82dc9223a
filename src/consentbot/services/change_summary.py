"""What a published change concerned and cost: printed by ``content publish``.

Its own module so publishing can name it without importing the service that applies
changes (which imports the turn pipeline).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from consentbot.content.model import Reconsent


@dataclass(frozen=True)
class ChangeSummary:
    """Who a published change concerned, and what telling them costs."""

    study: str
    version: int
    reconsent: Reconsent
    purposes: tuple[str, ...]
    by_purpose_and_status: dict[tuple[str, str], int] = field(default_factory=dict)
    """How many consents of each changed purpose were in each status before the change."""
    participants: int = 0
    """People concerned (said yes to at least one changed purpose)."""
    stopped: int = 0
    """Of them, people whose number sent STOP: their status changes, no SMS is sent."""
    messages: int = 0
    segments: int = 0
    """SMS and segments queued (to numbers that did not send STOP)."""

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __add__(self, other: ChangeSummary) -> ChangeSummary:
        """Two parts of the same change (two groups) reported as one."""
        assert (self.study, self.version) == (other.study, other.version)
        return ChangeSummary(
            study=self.study,
            version=self.version,
            reconsent=self.reconsent,
            purposes=self.purposes,
            by_purpose_and_status=dict(
                Counter(self.by_purpose_and_status) + Counter(other.by_purpose_and_status)
            ),
            participants=self.participants + other.participants,
            stopped=self.stopped + other.stopped,
            messages=self.messages + other.messages,
            segments=self.segments + other.segments,
        )

    def lines(self) -> list[str]:
        """A plain report for the command line."""
        action = (
            "asked again (their yes stops counting until they answer)"
            if self.reconsent is Reconsent.REQUIRED
            else "told what changed (no status changes)"
        )
        report = [f"{self.participants} participant(s) {action}:"]
        for (purpose, status), count in sorted(self.by_purpose_and_status.items()):
            report.append(f"  {purpose}: {count} {status}")
        report.append(
            f"{self.messages} SMS, {self.segments} segment(s); "
            f"{self.stopped} participant(s) sent STOP and get no SMS"
        )
        return report
