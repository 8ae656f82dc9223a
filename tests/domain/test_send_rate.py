"""The send rate: a token bucket, driven by a clock the test holds."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentbot.domain.send_rate import SendRate, SendRateError, SharedRate

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_starts_with_a_tenth_of_a_second_worth_and_at_least_one() -> None:
    assert SendRate(10).available(0.0) == 1
    assert SendRate(1000).available(0.0) == 100
    assert SendRate(0.5).available(0.0) == 1


def test_refills_at_the_rate() -> None:
    bucket = SendRate(10)
    bucket.take(1, 0.0)
    assert bucket.available(0.05) == 0
    assert bucket.wait(0.05) == pytest.approx(0.05)
    assert bucket.available(0.1) == 1
    assert bucket.wait(0.1) == 0.0


def test_never_holds_more_than_its_burst_however_long_it_was_idle() -> None:
    bucket = SendRate(100)
    bucket.take(10, 0.0)
    assert bucket.available(3600.0) == 10


def test_taking_more_than_allowed_is_a_bug() -> None:
    bucket = SendRate(10)
    with pytest.raises(ValueError, match="2 messages asked for"):
        bucket.take(2, 0.0)


def test_a_clock_going_backwards_adds_nothing() -> None:
    bucket = SendRate(10)
    bucket.take(1, 5.0)
    assert bucket.available(4.0) == 0
    assert bucket.available(5.1) == 1


@pytest.mark.parametrize("rate", [0.0, -1.0, math.nan])
def test_a_rate_must_be_above_zero(rate: float) -> None:
    with pytest.raises(SendRateError, match="above 0"):
        SendRate(rate)


@given(
    rate=st.floats(min_value=0.1, max_value=500),
    steps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=200),
)
def test_taking_all_it_allows_never_beats_the_rate(rate: float, steps: list[float]) -> None:
    """Whatever the pattern of rounds, what went by time t is at most burst + rate * t."""
    bucket = SendRate(rate)
    now, sent = 0.0, 0
    for step in steps:
        now += step
        allowed = bucket.available(now)
        bucket.take(allowed, now)
        sent += allowed
        assert sent <= bucket.burst + rate * now + 1e-6


def test_the_shared_window_is_a_second_holding_the_rate() -> None:
    shared = SharedRate(10)
    assert shared.window == timedelta(seconds=1)
    assert shared.capacity == 10
    assert shared.since(START) == START - timedelta(seconds=1)
    assert [shared.allowance(recent) for recent in (0, 7, 10, 12)] == [10, 3, 0, 0]


def test_a_slow_rate_widens_the_window_to_hold_one_message() -> None:
    shared = SharedRate(0.5)
    assert shared.window == timedelta(seconds=2)
    assert shared.capacity == 1
    assert SharedRate(2.5).capacity == 2  # whole messages: never above the rate


def test_a_full_window_frees_when_its_oldest_claim_leaves_it() -> None:
    shared = SharedRate(2)
    oldest = START - timedelta(seconds=0.4)
    assert shared.free_at(oldest, START) == START + timedelta(seconds=0.6)
    assert shared.free_at(None, START) == START + timedelta(seconds=1)


def test_the_shared_rate_refuses_what_the_bucket_refuses() -> None:
    with pytest.raises(SendRateError):
        SharedRate(0)
