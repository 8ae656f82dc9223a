"""Problems found in study content, each naming the file, the field and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ContentProblem:
    """One thing wrong in one field of one file."""

    file: Path
    field: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else str(self.file)
        return f"{where}: {self.problem}"


class ContentError(Exception):
    """Study content is malformed. Nothing is loaded until every problem is fixed."""

    def __init__(self, problems: list[ContentProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"study content has {len(problems)} problem(s):\n{lines}")
