"""What a participant information sheet must cover (HRA standards), as topics declare it.

Each topic says which of these it covers (``covers: [...]``); the content check
reports any item that no topic in the default language covers.
"""

from __future__ import annotations

from enum import StrEnum


class Coverage(StrEnum):
    """One thing a participant must be told. The values are what authors write in ``covers``."""

    WHY_YOU = "why-you"
    """Who is writing, and how they got the person's number."""
    WHAT_DATA = "what-data"
    """Which data the study uses."""
    WHO_HAS_ACCESS = "who-has-access"
    """Who can see the data, including any company: what it is and its credentials."""
    SAFEGUARDS = "safeguards"
    """How the data is kept safe."""
    BENEFITS_RISKS = "benefits-risks"
    """What good may come of it, and what could go wrong."""
    CHOICES = "choices"
    """Per-purpose yes/no, time to think and CONFIRM with its deadline, withdrawal, and how
    this consent relates to the national data opt-out."""
    RESULTS = "results"
    """What comes of the research, and how people hear about it."""
    RETENTION = "retention"
    """How long the data is kept."""
    APPROVAL = "approval"
    """Ethics committee, sponsor, data controller and legal basis."""
    COMPLAINTS = "complaints"
    """How to complain, and to whom."""
    HELP_IN_PERSON = "help-in-person"
    """Face-to-face help, a paper copy, interpreters, and a free phone line with its hours."""
