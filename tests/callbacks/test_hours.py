"""callback_hours: parsed from study.yaml, refused with a clear message when malformed."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from consentbot.content.loader import load_study
from consentbot.content.problems import ContentError
from consentbot.domain.callbacks import CallbackHours, CallbackHoursError
from tests.support.journey import ROOT, STUDY

LONDON = ZoneInfo("Europe/London")


def test_parses_a_run_of_days_and_a_window() -> None:
    hours = CallbackHours.parse("Mon-Fri 09:00-17:00")
    assert hours == CallbackHours(0, 4, time(9), time(17))


def test_a_single_day_and_a_run_that_wraps() -> None:
    assert CallbackHours.parse("sat 10:00-13:00").days == (5,)
    assert CallbackHours.parse("Sat-Mon 10:00-13:00").days == (5, 6, 0)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("weekdays 9-5", "is not days and hours"),
        ("Mon-Fry 09:00-17:00", "'fry' is not a day"),
        ("Mon-Fri 17:00-09:00", "must end after it starts"),
        ("Mon-Fri 09:00-24:00", "outside 00:00-23:59"),
    ],
)
def test_malformed_hours_are_refused(text: str, says: str) -> None:
    with pytest.raises(CallbackHoursError, match=says):
        CallbackHours.parse(text)


def test_expect_from_is_now_inside_the_hours_and_the_next_opening_outside() -> None:
    hours = CallbackHours.parse("Mon-Fri 09:00-17:00")
    inside = datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert hours.expect_from(inside, LONDON) == inside
    early = datetime(2026, 12, 1, 7, tzinfo=UTC)
    assert hours.expect_from(early, LONDON) == datetime(2026, 12, 1, 9, tzinfo=UTC)
    saturday = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert hours.expect_from(saturday, LONDON) == datetime(2026, 12, 7, 9, tzinfo=UTC)


def test_expect_from_keeps_local_time_in_summer() -> None:
    hours = CallbackHours.parse("Mon-Fri 09:00-17:00")
    monday_6am_utc = datetime(2026, 6, 1, 6, tzinfo=UTC)  # 07:00 in London (BST)
    assert hours.expect_from(monday_6am_utc, LONDON) == datetime(2026, 6, 1, 8, tzinfo=UTC)


def test_the_loader_names_the_field_and_the_problem(tmp_path: Path) -> None:
    folder = tmp_path / STUDY
    shutil.copytree(ROOT / "content" / "studies" / STUDY, folder)
    path = folder / "study.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["callback_hours"] = "Mon-Fri 9am-5pm"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_study(folder)
    (problem,) = caught.value.problems
    assert problem.field == "callback_hours"
    assert "is not days and hours like" in str(problem)


def test_without_callback_hours_the_study_offers_none(tmp_path: Path) -> None:
    folder = tmp_path / STUDY
    shutil.copytree(ROOT / "content" / "studies" / STUDY, folder)
    path = folder / "study.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["callback_hours"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_study(folder).callback_hours is None
