"""Reading a cohort file: every row read or reported with its line; never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentbot.services.cohort_file import CohortFile, CohortRow, RowProblem, parse_cohort


def lines(*text: str) -> bytes:
    return ("\n".join(text) + "\n").encode()


def test_rows_carry_their_line_and_an_optional_language() -> None:
    parsed = parse_cohort(lines("phone,reference,language", "07400 900001,P-1,PL", "+447400900002, P-2 ,"))
    assert parsed.problems == ()
    assert parsed.rows == (
        CohortRow(2, "07400 900001", "P-1", "pl"),
        CohortRow(3, "+447400900002", "P-2", None),
    )


def test_a_byte_order_mark_blank_lines_and_crlf_are_fine() -> None:
    data = b"\xef\xbb\xbfReference,Phone\r\n\r\nP-1,07400900001\r\n,\r\nP-2,07400900002\r\n"
    parsed = parse_cohort(data)
    assert parsed.problems == ()
    assert [(row.position, row.reference) for row in parsed.rows] == [(3, "P-1"), (5, "P-2")]


def test_a_quoted_field_over_two_lines_keeps_the_next_row_on_its_real_line() -> None:
    parsed = parse_cohort(lines("phone,reference", '07400900001,"P-1', 'continued"', "07400900002,P-2"))
    assert [row.position for row in parsed.rows] == [2, 4]


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("phone,reference,email", "unknown column 'email': the columns are phone, reference and (optionally) language"),
        ("phone,phone,reference", "the column 'phone' appears twice"),
        ("phone,language", "missing column 'reference'"),
        ("language", "missing column 'phone' and 'reference'"),
    ],
)
def test_a_wrong_header_is_named_on_line_1(header: str, error: str) -> None:
    parsed = parse_cohort(lines(header, "07400900001,P-1"))
    assert parsed.rows == ()
    (problem,) = parsed.problems
    assert problem.position == 1
    assert problem.error.startswith(error)


def test_every_row_with_the_wrong_number_of_fields_is_listed() -> None:
    parsed = parse_cohort(lines("phone,reference", "07400900001", "07400900002,P-2", "07400900003,P-3,pl"))
    assert [problem.on_line() for problem in parsed.problems] == [
        "line 2: has 1 fields, the header has 2",
        "line 4: has 3 fields, the header has 2",
    ]
    assert [row.reference for row in parsed.rows] == ["P-2"]


def test_not_utf8_names_the_line() -> None:
    parsed = parse_cohort(b"phone,reference\n07400900001,P-1\n07400900002,Jos\xe9\n")
    assert parsed.problems == (RowProblem(3, None, "is not UTF-8 text: save the file as CSV UTF-8"),)


@pytest.mark.parametrize(("data", "line"), [(b"", 1), (b"\n\n", 1), (b"phone,reference\n", 1)])
def test_an_empty_file_or_one_with_nobody_in_it_is_a_problem(data: bytes, line: int) -> None:
    parsed = parse_cohort(data)
    assert parsed.rows == ()
    assert [problem.position for problem in parsed.problems] == [line]


def test_broken_quoting_is_reported_where_it_starts() -> None:
    parsed = parse_cohort(lines("phone,reference", "07400900001,P-1", '07400900002,"P-2"x'))
    assert parsed.problems[-1].position == 3
    assert parsed.problems[-1].error.startswith("is not CSV")


@given(st.text())
def test_any_text_is_read_or_reported_with_a_line(text: str) -> None:
    check(parse_cohort(text.encode()), text.count("\n") + text.count("\r") + 1)


@given(st.binary())
def test_any_bytes_are_read_or_reported_with_a_line(data: bytes) -> None:
    check(parse_cohort(data), data.count(b"\n") + data.count(b"\r") + 1)


@given(
    st.lists(
        st.lists(st.sampled_from(["07400900001", "P-1", "pl", "", " ", '"', ",", "\n", "x\r\ny"]), max_size=4),
        max_size=8,
    )
)
def test_near_csv_is_read_or_reported_with_a_line(records: list[list[str]]) -> None:
    text = "phone,reference,language\n" + "\n".join(",".join(fields) for fields in records)
    check(parse_cohort(text.encode()), text.count("\n") + text.count("\r") + 1)


def check(parsed: CohortFile, last_line: int) -> None:
    for problem in parsed.problems:
        assert 1 <= problem.position <= last_line, problem
        assert problem.error
    for row in parsed.rows:
        assert 2 <= row.position <= last_line
    assert parsed.rows or parsed.problems, "nobody to invite must be said"
