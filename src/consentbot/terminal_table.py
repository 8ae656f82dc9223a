"""How commands print lists: aligned columns and moments in UTC (``user list``, ``webhook``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime


def moment(value: datetime | None) -> str:
    """``2026-12-01T10:00:00Z``, or ``-`` for none."""
    if value is None:
        return "-"
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def print_table(rows: Sequence[tuple[str, ...]]) -> None:
    """Print ``rows`` (the first is the heading) in columns two spaces apart."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
