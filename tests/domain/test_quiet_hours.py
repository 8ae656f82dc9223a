"""Quiet hours across midnight and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from consentbot.domain.quiet_hours import QuietHours, QuietHoursError

LONDON = ZoneInfo("Europe/London")
NIGHT = QuietHours.parse("21:00-08:00")


def test_parse() -> None:
    assert QuietHours(time(21), time(8)) == NIGHT
    assert QuietHours.parse(" 13:30 - 14:00 ") == QuietHours(time(13, 30), time(14))


@pytest.mark.parametrize("text", ["21:00", "25:00-08:00", "21:00-21:00", "9pm-8am", "21:60-08:00"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(QuietHoursError):
        QuietHours.parse(text)


def test_outside_quiet_hours_sends_now() -> None:
    noon = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert NIGHT.next_allowed(noon, LONDON) == noon


def test_late_evening_defers_to_next_morning() -> None:
    evening = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 22:30 in London (GMT)
    assert NIGHT.next_allowed(evening, LONDON) == datetime(2026, 12, 2, 8, tzinfo=UTC)


def test_early_morning_defers_to_same_morning() -> None:
    early = datetime(2026, 12, 2, 3, tzinfo=UTC)
    assert NIGHT.next_allowed(early, LONDON) == datetime(2026, 12, 2, 8, tzinfo=UTC)


def test_summer_time_uses_local_wall_clock() -> None:
    # 21:30 BST is 20:30 UTC; quiet ends at 08:00 BST = 07:00 UTC.
    evening = datetime(2026, 7, 1, 20, 30, tzinfo=UTC)
    assert NIGHT.next_allowed(evening, LONDON) == datetime(2026, 7, 2, 7, tzinfo=UTC)


def test_window_within_a_day() -> None:
    lunch = QuietHours.parse("12:00-13:00")
    at = datetime(2026, 12, 1, 12, 15, tzinfo=UTC)
    assert lunch.next_allowed(at, LONDON) == datetime(2026, 12, 1, 13, tzinfo=UTC)
    assert lunch.next_allowed(datetime(2026, 12, 1, 13, tzinfo=UTC), LONDON) == datetime(2026, 12, 1, 13, tzinfo=UTC)
