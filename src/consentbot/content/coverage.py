"""What a participant information sheet must cover (HRA standards), as topics declare it.

Each topic says which of these it covers (``covers: [...]``); the content check
reports any item that no topic in the default language covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # model.py imports Coverage, so Topic is only needed for type checking
    from consentbot.content.model import Topic


class Coverage(StrEnum):
    """One thing a participant must be told. The values are what authors write in ``covers``."""

    WHY_YOU = "why-you"
    WHAT_DATA = "what-data"
    WHO_HAS_ACCESS = "who-has-access"
    SAFEGUARDS = "safeguards"
    BENEFITS_RISKS = "benefits-risks"
    CHOICES = "choices"
    RESULTS = "results"
    RETENTION = "retention"
    APPROVAL = "approval"
    COMPLAINTS = "complaints"
    HELP_IN_PERSON = "help-in-person"

    @property
    def meaning(self) -> str:
        """What a topic covering this item tells the participant (docs/content-format.md)."""
        return _MEANINGS[self]


_MEANINGS: dict[Coverage, str] = {
    Coverage.WHY_YOU: "who is writing, and how they got the person's number",
    Coverage.WHAT_DATA: "which data the study uses",
    Coverage.WHO_HAS_ACCESS: (
        "who can see the data, including any company: what it is and its credentials"
    ),
    Coverage.SAFEGUARDS: "how the data is kept safe",
    Coverage.BENEFITS_RISKS: "what good may come of it, and what could go wrong",
    Coverage.CHOICES: (
        "the yes/no choice per purpose, time to think and CONFIRM with its deadline, "
        "withdrawal, and how this consent relates to the national data opt-out"
    ),
    Coverage.RESULTS: "what comes of the research, and how people hear about it",
    Coverage.RETENTION: "how long the data is kept",
    Coverage.APPROVAL: "the ethics committee, sponsor, data controller and legal basis",
    Coverage.COMPLAINTS: "how to complain, and to whom",
    Coverage.HELP_IN_PERSON: (
        "face-to-face help, a paper copy, interpreters, and a free phone line with its hours"
    ),
}


def missing_coverage(topics: Iterable[Topic]) -> list[Coverage]:
    """The items no topic covers, in the order of :class:`Coverage`."""
    covered: set[Coverage] = set()
    for topic in topics:
        covered |= topic.covers
    return [item for item in Coverage if item not in covered]
