"""Problems found in study content, each naming the file, the line, the field and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    """How much a problem matters: errors stop a study loading or publishing; warnings advise."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class ContentProblem:
    """One thing wrong in one field of one file."""

    file: Path
    field: str
    problem: str
    severity: Severity = Severity.ERROR
    line: int | None = None
    """1-based line in ``file``, when known."""

    def at_line(self, line: int | None) -> ContentProblem:
        """The same problem, placed on ``line``."""
        return replace(self, line=line)

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line is not None else str(self.file)
        where = f"{place}: {self.field}" if self.field else place
        return f"{where}: {self.problem}"


class ContentError(Exception):
    """Study content is malformed. Nothing is loaded until every problem is fixed."""

    def __init__(self, problems: list[ContentProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"study content has {len(problems)} problem(s):\n{lines}")
