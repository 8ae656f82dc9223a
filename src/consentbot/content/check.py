"""``consentbot content check`` without the command line: every check of every study.

Pure: reads the content and locale files, never a database. Each study gets a
:class:`StudyReport`; a caller with more to say (the published version in the
database, say) adds its own problems with :meth:`StudyReport.add`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from consentbot.content.coverage import missing_coverage
from consentbot.content.lines import LinesCache
from consentbot.content.loader import LoadedStudy, load_each
from consentbot.content.model import Study
from consentbot.content.plain_language import plain_language_warnings
from consentbot.content.problems import ContentError, ContentProblem, Severity
from consentbot.content.sms_cost import Sending, sms_cost_warnings


@dataclass
class StudyReport:
    """Every problem found in one study, errors and warnings."""

    id: str
    problems: list[ContentProblem] = field(default_factory=list)
    lines: LinesCache = field(default_factory=LinesCache, repr=False, compare=False)
    """Each file composed once, to place problems on their lines."""

    def add(self, problem: ContentProblem) -> None:
        """Add a problem; one without a line is placed on its field's line in its file."""
        if problem.line is None and problem.field:
            problem = problem.at_line(self.lines(problem.file).line(problem.field))
        self.problems.append(problem)

    @property
    def errors(self) -> list[ContentProblem]:
        """The problems that must be fixed."""
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[ContentProblem]:
        """The problems that advise."""
        return [p for p in self.problems if p.severity is Severity.WARNING]

    def sorted_problems(self) -> list[ContentProblem]:
        """Problems by file, then line (a problem of the whole file first)."""
        return sorted(self.problems, key=lambda p: (str(p.file), p.line or 0))


def check_content(
    root: Path, study_id: str | None = None, sending: Sending | None = None
) -> list[StudyReport]:
    """Check every study under ``root/studies`` (or only ``study_id``).

    ``sending`` is how messages are really sent (``Sending.load(settings.locales_dir, ...)``);
    without it, the SMS cost is not checked. A missing ``root/studies`` or ``study_id`` is
    a report with one error, never an exception.
    """
    try:
        loaded = load_each(root)
    except ContentError as error:
        report = StudyReport(study_id or "")
        for problem in error.problems:
            report.add(problem)
        return [report]
    if study_id is not None:
        loaded = [each for each in loaded if each.folder.name == study_id]
        if not loaded:
            report = StudyReport(study_id)
            report.add(
                ContentProblem(root / "studies" / study_id, "", "is not a folder of study files")
            )
            return [report]
    return [_check_one(each, sending) for each in loaded]


def _check_one(loaded: LoadedStudy, sending: Sending | None) -> StudyReport:
    report = StudyReport(loaded.folder.name)
    found = list(loaded.problems)
    if loaded.study is not None:
        found += study_problems(loaded.study, loaded.folder, sending, report.lines)
    for problem in found:
        report.add(problem)
    return report


def study_problems(
    study: Study, folder: Path, sending: Sending | None, lines: LinesCache | None = None
) -> list[ContentProblem]:
    """The authoring checks of a study that loaded: loader warnings, coverage, plain
    language and (given ``sending``) SMS cost."""
    problems = list(study.warnings)
    problems += coverage_errors(study, folder)
    problems += plain_language_warnings(study, folder, lines or LinesCache())
    if sending is not None:
        problems += sms_cost_warnings(study, folder, sending)
    return problems


def coverage_errors(study: Study, folder: Path) -> list[ContentProblem]:
    """An error for each item of a participant information sheet that no topic covers."""
    path = folder / f"{study.default_language}.yaml"
    return [
        ContentProblem(
            path,
            "topics",
            f"no topic covers {item.value!r} ({item.meaning}): "
            f"add {item.value} to the covers list of the topic that says it",
        )
        for item in missing_coverage(study.texts[study.default_language].topics)
    ]
