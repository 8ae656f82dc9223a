"""Small-number suppression: no count from 1 to 4 is shown, and none can be worked out."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentbot.domain.suppression import (
    Count,
    Hidden,
    SuppressedTable,
    part_of,
    primary,
    suppress_table,
)


def lines(table: SuppressedTable) -> list[list[Count]]:
    """Every set of counts that adds up: each row and column with its total, and the totals."""
    rows = [[*row, total] for row, total in zip(table.cells, table.row_totals, strict=True)]
    rows.append([*table.column_totals, table.grand_total])
    columns = [list(column) for column in zip(*rows, strict=True)]
    return rows + columns


def truth(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    """The same lines' true values, in the order of :func:`lines`."""
    width = len(cells[0])
    grid = [[*row, sum(row)] for row in cells]
    grid.append([sum(row[c] for row in grid) for c in range(width + 1)])
    return grid + [list(column) for column in zip(*grid, strict=True)]


@pytest.mark.parametrize(("value", "shown"), [(0, True), (1, False), (4, False), (5, True), (90, True)])
def test_primary_hides_one_to_four(value: int, shown: bool) -> None:
    count = primary(value)
    assert count.shown is shown
    assert count.value == (value if shown else None)
    assert count.hidden == (None if shown else Hidden.SMALL)


def test_primary_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError, match="never negative"):
        primary(-1)


def test_a_table_without_small_counts_is_shown_whole() -> None:
    table = suppress_table([[10, 0], [7, 30]])
    assert [[c.value for c in row] for row in table.cells] == [[10, 0], [7, 30]]
    assert [c.value for c in table.row_totals] == [10, 37]
    assert [c.value for c in table.column_totals] == [17, 30]
    assert table.grand_total == Count(47)


def test_one_small_cell_hides_the_smallest_large_partner_in_its_row_and_column() -> None:
    table = suppress_table([[3, 10, 20], [8, 9, 40]])
    assert table.cells[0][0] == Count(None, Hidden.SMALL)
    # Row 0: 10 is the smallest count of 5 or more; column 0: 8.
    assert table.cells[0][1] == Count(None, Hidden.PROTECTING)
    assert table.cells[1][0] == Count(None, Hidden.PROTECTING)
    # Column 1 then has one hidden (10): its smallest other count goes too, closing the square.
    assert table.cells[1][1] == Count(None, Hidden.PROTECTING)
    assert [c.value for c in table.row_totals] == [33, 57]
    assert [c.value for c in table.column_totals] == [11, 19, 60]
    assert table.cells[0][2] == Count(20)
    assert table.grand_total == Count(90)


def test_a_zero_is_not_used_to_protect_when_a_larger_count_can() -> None:
    table = suppress_table([[2, 0, 6]])
    assert table.cells[0][1] == Count(0)
    assert table.cells[0][2].hidden is Hidden.PROTECTING


def test_rows_must_be_the_same_width() -> None:
    with pytest.raises(ValueError, match="same number of columns"):
        suppress_table([[1, 2], [3]])


def test_an_empty_table_has_only_a_zero_total() -> None:
    assert suppress_table([]).grand_total == Count(0)


tables = st.integers(1, 5).flatmap(
    lambda width: st.lists(
        st.lists(st.one_of(st.integers(0, 6), st.integers(0, 200)), min_size=width, max_size=width),
        min_size=1,
        max_size=6,
    )
)


@given(tables)
def test_no_hidden_count_can_be_recovered_by_subtraction(cells: list[list[int]]) -> None:
    table = suppress_table(cells)
    for line, values in zip(lines(table), truth(cells), strict=True):
        hidden = [count for count in line if not count.shown]
        # One hidden member of a line that adds up would be its total minus the rest.
        assert len(hidden) != 1
        # Whatever is shown is the truth.
        assert all(c.value == v for c, v in zip(line, values, strict=True) if c.shown)


@given(tables)
def test_every_count_from_one_to_four_is_hidden_as_small(cells: list[list[int]]) -> None:
    table = suppress_table(cells)
    for line, values in zip(lines(table), truth(cells), strict=True):
        for count, value in zip(line, values, strict=True):
            if 0 < value < 5:
                assert count.hidden is Hidden.SMALL
            elif count.hidden is not None:
                assert count.hidden is Hidden.PROTECTING


@given(tables)
def test_a_small_count_is_never_protected_by_zeros_alone(cells: list[list[int]]) -> None:
    """Where a line hides a count of 1 to 4, the others hidden with it add up to 5 or more
    unless they are small too: an attacker cannot pin it down to the line's remainder."""
    table = suppress_table(cells)
    for line, values in zip(lines(table), truth(cells), strict=True):
        small = [v for c, v in zip(line, values, strict=True) if c.hidden is Hidden.SMALL]
        protecting = [v for c, v in zip(line, values, strict=True) if c.hidden is Hidden.PROTECTING]
        if len(small) == 1 and protecting:
            assert sum(protecting) >= 5 or len(protecting) > 1


@given(tables)
def test_known_row_totals_are_never_hidden_to_protect_a_cell(cells: list[list[int]]) -> None:
    table = suppress_table(cells, known_row_totals=True)
    for line, values in zip(lines(table), truth(cells), strict=True):
        assert len([count for count in line if not count.shown]) != 1
        assert all(c.value == v for c, v in zip(line, values, strict=True) if c.shown)
    if len(cells[0]) > 1 and not any(0 < sum(row) < 5 for row in cells):
        assert all(total.hidden is not Hidden.PROTECTING for total in table.row_totals)
        assert table.grand_total.hidden is not Hidden.PROTECTING


@given(tables, st.booleans())
def test_no_line_with_a_shown_total_hides_only_zeros(cells: list[list[int]], known: bool) -> None:
    """Hidden members of a line that add up to 0 would each be 0: given away."""
    table = suppress_table(cells, known_row_totals=known)
    for line, values in zip(lines(table), truth(cells), strict=True):
        hidden = [v for c, v in zip(line, values, strict=True) if not c.shown]
        if hidden:
            assert sum(hidden) > 0


def test_a_purpose_few_have_answered_keeps_its_large_counts() -> None:
    """The console's case: one purpose with 2 not answered, 8 confirmed and 2 declined, the
    others not answered by anyone (12 people)."""
    table = suppress_table([[2, 0, 8, 2, 0, 0, 0]] + [[12, 0, 0, 0, 0, 0, 0]] * 4, known_row_totals=True)
    # The two small counts protect each other in their row; the "not answered" column is
    # protected by hiding its total, not by hiding another purpose's 12.
    assert [c.hidden for c in table.cells[0]][:4] == [Hidden.SMALL, None, None, Hidden.SMALL]
    assert table.cells[0][2] == Count(8)
    assert all(c.shown for row in table.cells[1:] for c in row)
    assert table.column_totals[0].hidden is Hidden.PROTECTING
    assert all(c.value == 12 for c in table.row_totals)


@pytest.mark.parametrize(
    ("total", "part", "expected"),
    [
        (12, 7, Count(7)),
        (12, 12, Count(12)),
        (12, 10, Count(None, Hidden.PROTECTING)),  # the other 2 are a small count
        (12, 3, Count(None, Hidden.SMALL)),
        (12, 0, Count(0)),
        (3, 3, Count(None, Hidden.SMALL)),
    ],
)
def test_a_part_of_a_shown_total_hides_a_small_remainder(total: int, part: int, expected: Count) -> None:
    assert part_of(total, part) == expected


@given(st.integers(0, 300).flatmap(lambda total: st.tuples(st.just(total), st.integers(0, total))))
def test_neither_a_part_nor_its_remainder_is_ever_small_and_shown(pair: tuple[int, int]) -> None:
    total, part = pair
    count = part_of(total, part)
    if count.shown:
        assert count.value == part
        assert not 0 < part < 5
        assert not 0 < total - part < 5


def test_a_part_must_fit_its_total() -> None:
    with pytest.raises(ValueError, match="between 0 and its total"):
        part_of(3, 4)


def test_a_zero_is_hidden_rather_than_a_total_everyone_knows() -> None:
    # Hypothesis found it: hiding the public row total 5 would leave the 5 beside the
    # zero readable, and with it the 1 in its column.
    table = suppress_table([[1, 5], [5, 0]], known_row_totals=True)
    assert [total.hidden for total in table.row_totals] == [None, None]
    assert table.cells[1][1].hidden is Hidden.PROTECTING
