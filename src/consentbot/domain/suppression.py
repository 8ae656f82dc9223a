"""Small-number suppression for the study console: no count of 1 to 4 people can be read
or worked out from what a page shows.

*Primary* suppression hides every count from 1 to 4 (shown as "<5"): a number that small
can point at a person. Zero is shown: nobody is in it, so it identifies nobody.

*Secondary* suppression then hides more counts, so that no hidden one can be worked out
by subtraction. A table with totals has *lines*: each row with its row total, each column
with its column total, the row of column totals with the grand total and the column of
row totals with the grand total. The members of a line add up (the total is the sum of
the others), so a line with exactly one hidden member gives that member away. Hiding a
second member of every such line, until no line has exactly one, leaves each hidden
count with at least one unknown partner in every line it is in.

The second member hidden is never a zero where anything else will do: a hidden zero
protects nothing (a line whose total is 0 gives all its members away, and an attacker
who knows the partner is not 1 to 4 could tell it is 0). Among the rest, the choice
that leaves fewest other lines needing a hide of their own is taken, then cells before
totals, then the smallest count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

THRESHOLD = 5
"""Counts from 1 to THRESHOLD - 1 are hidden."""


class Hidden(StrEnum):
    """Why a count is not shown."""

    SMALL = "small"
    """Primary: 1 to 4 (shown as "<5")."""
    PROTECTING = "protecting"
    """Secondary: hidden so that a small count cannot be worked out from it."""


@dataclass(frozen=True, slots=True)
class Count:
    """One count as a page may show it: ``value`` is None when hidden."""

    value: int | None
    hidden: Hidden | None = None

    @property
    def shown(self) -> bool:
        """Whether the page shows the number."""
        return self.hidden is None


def primary(value: int) -> Count:
    """A single count with no totals around it: hidden only when it is 1 to 4."""
    if value < 0:
        raise ValueError("a count is never negative")
    if 0 < value < THRESHOLD:
        return Count(None, Hidden.SMALL)
    return Count(value)


def part_of(total: int, part: int) -> Count:
    """A count that is part of a ``total`` the page shows (invited, then those who read):
    hidden when it is 1 to 4, and also when the rest (``total - part``) is, since the rest
    is then a small count anyone can work out by subtraction."""
    if not 0 <= part <= total:
        raise ValueError("a part is between 0 and its total")
    count = primary(part)
    if count.shown and 0 < total - part < THRESHOLD:
        return Count(None, Hidden.PROTECTING)
    return count


@dataclass(frozen=True, slots=True)
class SuppressedTable:
    """A table of counts with its totals, after suppression (same shape as the input)."""

    cells: tuple[tuple[Count, ...], ...]
    row_totals: tuple[Count, ...]
    column_totals: tuple[Count, ...]
    grand_total: Count


_Position = tuple[int, int]
"""(row, column) in the table extended by a totals column and a totals row."""


def suppress_table(
    cells: Sequence[Sequence[int]], *, known_row_totals: bool = False
) -> SuppressedTable:
    """Suppress a table of counts and the row, column and grand totals computed from it.

    ``known_row_totals``: the row totals are public anyway (every purpose's row adds up to
    everyone invited, which the page shows): hiding one would protect nothing, so they
    are never hidden to protect another count, nor is the grand total, their sum, unless
    a line has nothing else to hide (they are still hidden when 1 to 4).
    """
    rows = len(cells)
    columns = len(cells[0]) if rows else 0
    if any(len(row) != columns for row in cells):
        raise ValueError("every row needs the same number of columns")
    # The table extended with its totals: column `columns` is the row totals, row `rows`
    # the column totals, and (rows, columns) the grand total.
    grid = [[*row, sum(row)] for row in cells]
    grid.append([sum(row[c] for row in grid) for c in range(columns + 1)])
    values = {(r, c): grid[r][c] for r in range(rows + 1) for c in range(columns + 1)}
    hidden: dict[_Position, Hidden] = {}
    for position, value in values.items():
        if primary(value).hidden is not None:
            hidden[position] = Hidden.SMALL
    lines = [[(r, c) for c in range(columns + 1)] for r in range(rows + 1)] + [
        [(r, c) for r in range(rows + 1)] for c in range(columns + 1)
    ]
    through: dict[_Position, list[list[_Position]]] = {position: [] for position in values}
    for line in lines:
        for position in line:
            through[position].append(line)

    def cost(position: _Position, line: list[_Position]) -> tuple[bool, bool, int, bool, int]:
        """Order of preference for a secondary hide (smallest first): not a known total
        (hiding what is public protects nothing, so even a zero is better); not zero; one
        that completes other lines rather than leaving them with one hidden; a cell rather
        than a total; the smallest."""
        known = known_row_totals and position[1] == columns
        others = [other for other in through[position] if other is not line]
        opened = sum(sum(p in hidden for p in other) == 0 for other in others)
        closed = sum(sum(p in hidden for p in other) == 1 for other in others)
        is_total = position[0] == rows or position[1] == columns
        return (known, values[position] == 0, opened - closed, is_total, values[position])

    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(position in hidden for position in line) != 1:
                continue
            candidates = [p for p in line if p not in hidden]
            hidden[min(candidates, key=lambda p: cost(p, line))] = Hidden.PROTECTING
            changed = True

    def count(position: _Position) -> Count:
        reason = hidden.get(position)
        return Count(None if reason else values[position], reason)

    return SuppressedTable(
        cells=tuple(tuple(count((r, c)) for c in range(columns)) for r in range(rows)),
        row_totals=tuple(count((r, columns)) for r in range(rows)),
        column_totals=tuple(count((rows, c)) for c in range(columns)),
        grand_total=count((rows, columns)),
    )
