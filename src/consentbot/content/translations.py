"""Translations that need a person's attention: out of date, or not yet reviewed.

Both are warnings, not errors: a draft or stale translation is still served (the
conversation falls back to the default language where a text is missing), but the
research team should know before they publish.
"""

from __future__ import annotations

from pathlib import Path

from consentbot.content.model import StudyText
from consentbot.content.problems import ContentProblem, Severity

DRAFT = "draft"


def translation_warnings(path: Path, text: StudyText, version: int) -> list[ContentProblem]:
    """Warnings for one language file ``path``: stale against ``version``, or still a draft."""
    warnings: list[ContentProblem] = []
    if text.translated_from_version < version:
        warnings.append(
            ContentProblem(
                path,
                "translated_from_version",
                f"{text.translated_from_version} is older than the study's version {version}: "
                "the translation needs updating",
                Severity.WARNING,
            )
        )
    if text.status == DRAFT:
        warnings.append(
            ContentProblem(
                path,
                "status",
                "is draft: have a qualified translator review this language, "
                "then set status: reviewed",
                Severity.WARNING,
            )
        )
    return warnings
