"""A cohort file: UTF-8 CSV with a header and the columns ``phone,reference[,language]``.

Pure: bytes in, rows and problems out. Every problem names the line it is on (line 1 is
the header), so a research team can fix the file in a spreadsheet and try again.
Checking the values against the study and the database is :mod:`consentbot.services.cohort`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

COLUMNS = ("phone", "reference", "language")
REQUIRED = ("phone", "reference")


@dataclass(frozen=True, slots=True)
class CohortRow:
    """One invitation as written: ``position`` is its line in a file (its index in an API call)."""

    position: int
    phone: str
    reference: str
    language: str | None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """What is wrong at ``position`` (a line of the file, or an index in an API call)."""

    position: int
    field: str | None
    error: str

    def on_line(self) -> str:
        """The problem as a file's reader wants it: ``line 7: phone: is not a mobile number``."""
        where = f"{self.field}: " if self.field else ""
        return f"line {self.position}: {where}{self.error}"


@dataclass(frozen=True, slots=True)
class CohortFile:
    """The rows that could be read and the problems found while reading."""

    rows: tuple[CohortRow, ...]
    problems: tuple[RowProblem, ...]


def parse_cohort(data: bytes) -> CohortFile:
    """Read a cohort file. A byte-order mark is allowed (spreadsheets write one).

    Blank lines are skipped. A file that is not UTF-8, not CSV, or whose header is wrong
    stops at that problem; a row with the wrong number of fields is reported and the
    rest are still read, so every bad row is listed at once.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return _failed(line, "is not UTF-8 text: save the file as CSV UTF-8")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[CohortRow] = []
    problems: list[RowProblem] = []
    header: list[str] | None = None
    header_line = 0
    line = 1
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not any(field.strip() for field in record):
                continue
            if header is None:
                header, header_line = [name.strip().lower() for name in record], start
                if header_problem := _header_problem(header):
                    return _failed(start, header_problem)
                continue
            if len(record) != len(header):
                count = f"has {len(record)} fields, the header has {len(header)}"
                problems.append(RowProblem(start, None, count))
                continue
            values = dict(zip(header, (field.strip() for field in record), strict=True))
            language = values.get("language", "").lower() or None
            rows.append(CohortRow(start, values["phone"], values["reference"], language))
    except csv.Error as unreadable:
        broken = RowProblem(line, None, f"is not CSV: {unreadable}")
        return CohortFile(tuple(rows), (*problems, broken))
    if header is None:
        return _failed(1, "the file is empty: it needs the header phone,reference[,language]")
    if not rows and not problems:
        problems.append(RowProblem(header_line, None, "there is nobody to invite under the header"))
    return CohortFile(tuple(rows), tuple(problems))


def _header_problem(header: list[str]) -> str | None:
    expected = "the columns are phone, reference and (optionally) language"
    for name in header:
        if name not in COLUMNS:
            return f"unknown column {name!r}: {expected}"
        if header.count(name) > 1:
            return f"the column {name!r} appears twice"
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        return f"missing column {' and '.join(repr(name) for name in missing)}: {expected}"
    return None


def _failed(line: int, error: str) -> CohortFile:
    return CohortFile((), (RowProblem(line, None, error),))
