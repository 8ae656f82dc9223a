"""Cooling-off arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from consentbot.domain.cooling_off import (
    CoolingOff,
    PurposeConsent,
    confirmable,
    lapsed,
    latest_opening,
    still_cooling,
)
from consentbot.domain.status import ConsentStatus

RULES = CoolingOff(timedelta(days=1), timedelta(days=14))
T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_window_opens_after_the_period_and_closes_after_confirm_within() -> None:
    assert not RULES.can_confirm(T0, T0 + timedelta(hours=23, minutes=59))
    assert RULES.can_confirm(T0, T0 + timedelta(days=1))
    assert RULES.can_confirm(T0, T0 + timedelta(days=15) - timedelta(seconds=1))
    assert not RULES.can_confirm(T0, T0 + timedelta(days=15))
    assert RULES.has_expired(T0, T0 + timedelta(days=15))


def test_partitions_pending_purposes() -> None:
    consents = {
        "a": PurposeConsent(ConsentStatus.PENDING, T0, T0),
        "b": PurposeConsent(ConsentStatus.PENDING, T0, T0 + timedelta(days=1)),
        "c": PurposeConsent(ConsentStatus.ACTIVE, T0),
        "d": PurposeConsent(ConsentStatus.PENDING, T0, T0 - timedelta(days=20)),
    }
    now = T0 + timedelta(days=1, hours=1)
    assert confirmable(consents, RULES, now) == ["a"]
    assert still_cooling(consents, RULES, now) == ["b"]
    assert lapsed(consents, RULES, now) == ["d"]


def test_reminder_waits_for_the_latest_yes() -> None:
    assert latest_opening([T0, T0 + timedelta(hours=3)], RULES) == T0 + timedelta(days=1, hours=3)
    assert latest_opening([], RULES) is None


@given(
    period=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=30)),
    window=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=60)),
    offset=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=100)),
)
def test_confirm_never_before_the_period_ends(period: timedelta, window: timedelta, offset: timedelta) -> None:
    rules = CoolingOff(period, window)
    if rules.can_confirm(T0, T0 + offset):
        assert offset >= period
        assert offset < period + window
