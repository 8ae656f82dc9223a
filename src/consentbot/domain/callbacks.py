"""Call-backs: when a study team phones people back, and what became of a request.

A person texts CALL (or presses the web page's button); the request joins a queue for
the study's team and the community workers. Nothing about consent is decided on the call:
any change goes through an assisted session or the person's own phone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names as study.yaml writes them, in ``datetime.weekday()`` order."""

_HOURS = re.compile(
    r"^\s*(?P<first>[A-Za-z]{3})(?:\s*-\s*(?P<last>[A-Za-z]{3}))?\s+"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})\s*$"
)


class CallbackStatus(StrEnum):
    """Where a call-back request is in the queue."""

    OPEN = "open"
    """Waiting for someone to take it."""
    CLAIMED = "claimed"
    """A member of staff has taken it and will phone."""
    DONE = "done"
    """Finished, with an outcome."""


class CallbackOutcome(StrEnum):
    """What happened when staff tried to call."""

    REACHED = "reached"
    NO_ANSWER = "no-answer"
    WRONG_NUMBER = "wrong-number"
    DECLINED_CALL = "declined-call"
    """The person no longer wanted the call."""


class CallbackHoursError(ValueError):
    """The text is not a window like ``Mon-Fri 09:00-17:00``."""


@dataclass(frozen=True, slots=True)
class CallbackHours:
    """Days ``first_day`` to ``last_day`` (0 = Monday) from ``start`` to ``end``, local time.

    Deliberately simple: one run of days and one window within a day, which covers what
    study teams staff ("Mon-Fri 09:00-17:00", "Sat 10:00-13:00").
    """

    first_day: int
    last_day: int
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> CallbackHours:
        """Parse ``DAY[-DAY] HH:MM-HH:MM`` with English three-letter day names."""
        match = _HOURS.match(text)
        example = '"Mon-Fri 09:00-17:00"'
        if match is None:
            raise CallbackHoursError(f"{text!r} is not days and hours like {example}")
        first = match["first"].lower()
        last = (match["last"] or match["first"]).lower()
        for day in (first, last):
            if day not in DAYS:
                raise CallbackHoursError(f"{day!r} is not a day: use one of {', '.join(DAYS)}")
        h1, m1, h2, m2 = (int(match[key]) for key in ("h1", "m1", "h2", "m2"))
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise CallbackHoursError(f"{text!r} has a time outside 00:00-23:59")
        if (h2, m2) <= (h1, m1):
            raise CallbackHoursError(f"{text!r} must end after it starts, on the same day")
        return cls(DAYS.index(first), DAYS.index(last), time(h1, m1), time(h2, m2))

    @property
    def days(self) -> tuple[int, ...]:
        """The weekdays (0 = Monday) calls are made on; a run may wrap ("Sat-Mon")."""
        count = (self.last_day - self.first_day) % 7 + 1
        return tuple((self.first_day + offset) % 7 for offset in range(count))

    def expect_from(self, instant: datetime, zone: ZoneInfo) -> datetime:
        """When a call can first come: ``instant`` itself inside the hours, else the next start.

        Aware datetimes in, an aware datetime (in ``instant``'s zone) out.
        """
        local = instant.astimezone(zone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            opens = datetime.combine(day, self.start, tzinfo=zone)
            closes = datetime.combine(day, self.end, tzinfo=zone)
            if local < closes:
                return max(opens, local).astimezone(instant.tzinfo)
        raise AssertionError("a week always holds one of the days")
