"""ISO 8601 durations as study authors write them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentbot.domain.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P1D", timedelta(days=1)),
        ("P14D", timedelta(days=14)),
        ("PT12H", timedelta(hours=12)),
        ("P2W", timedelta(weeks=2)),
        ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
        ("pt90s", timedelta(seconds=90)),
    ],
)
def test_parses(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P", "PT", "1D", "P1M", "P1Y", "P1.5D", "PT1D", "", "P-1D"])
def test_rejects_with_a_clear_message(text: str) -> None:
    with pytest.raises(DurationError, match="ISO 8601"):
        parse_duration(text)


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)).map(lambda d: timedelta(seconds=int(d.total_seconds()))))
def test_round_trip(delta: timedelta) -> None:
    assert parse_duration(format_duration(delta)) == delta
