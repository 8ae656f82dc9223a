"""How ``consentbot content check`` prints its reports: text for people, JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Sequence

from consentbot.content.check import StudyReport
from consentbot.content.problems import ContentProblem


def exit_code(reports: Sequence[StudyReport]) -> int:
    """1 when any study has an error, 0 with warnings only."""
    return 1 if any(report.errors for report in reports) else 0


def problem_line(problem: ContentProblem) -> str:
    """``severity file:line: field: message`` (no line when it is unknown)."""
    return f"{problem.severity.value} {problem}"


def render_text(reports: Sequence[StudyReport]) -> str:
    """One line per problem, grouped per study, then a count of errors and warnings."""
    out: list[str] = []
    for report in reports:
        errors, warnings = len(report.errors), len(report.warnings)
        name = report.id or "(no study)"
        out.append(f"{name}: {_count(errors, 'error')}, {_count(warnings, 'warning')}")
        out.extend(f"  {problem_line(problem)}" for problem in report.sorted_problems())
    errors = sum(len(report.errors) for report in reports)
    warnings = sum(len(report.warnings) for report in reports)
    out.append(
        f"{_count(len(reports), 'study', 'studies')} checked: "
        f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
    )
    return "\n".join(out)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def as_json(reports: Sequence[StudyReport]) -> dict[str, object]:
    """``{"studies": [{"id", "problems": [{"severity", "file", "line", "field", "message"}]}]}``."""
    return {
        "studies": [
            {
                "id": report.id,
                "problems": [
                    {
                        "severity": problem.severity.value,
                        "file": str(problem.file),
                        "line": problem.line,
                        "field": problem.field,
                        "message": problem.problem,
                    }
                    for problem in report.sorted_problems()
                ],
            }
            for report in reports
        ]
    }


def render_json(reports: Sequence[StudyReport]) -> str:
    """:func:`as_json`, as indented JSON text."""
    return json.dumps(as_json(reports), ensure_ascii=False, indent=2)
