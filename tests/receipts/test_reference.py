"""Receipt references: Crockford base32, random, and forgiving when typed back."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from consentbot.domain.receipt_reference import ALPHABET, PATTERN, new_reference, read_reference


def test_a_reference_is_short_and_has_no_ambiguous_letters() -> None:
    references = {new_reference() for _ in range(200)}
    assert len(references) == 200
    for reference in references:
        assert PATTERN.match(reference), reference
        assert not set(reference[2:].replace("-", "")) & set("ILOU")


def test_the_reference_comes_from_the_random_source() -> None:
    counter = itertools.count()
    assert new_reference(lambda n: next(counter) % n) == "R-0123-4567"


@given(st.lists(st.integers(0, len(ALPHABET) - 1), min_size=8, max_size=8))
def test_every_reference_reads_back_as_itself(picks: list[int]) -> None:
    values = iter(picks)
    reference = new_reference(lambda _n: next(values))
    assert read_reference(reference) == reference
    assert read_reference(reference.lower().replace("-", " ")) == reference


def test_letters_people_confuse_are_read_as_digits() -> None:
    assert read_reference("r-7qf3-m2xa") == "R-7QF3-M2XA"
    assert read_reference("R-O1IL-0000") == "R-0111-0000"
    assert read_reference("R-7QF3-M2X") is None
    assert read_reference("R-7QF3-M2XU") is None
