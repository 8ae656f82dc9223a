"""Quiet hours: a daily window, in the study's time zone, with no proactive messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class QuietHoursError(ValueError):
    """The text is not a window like ``21:00-08:00``."""


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From ``start`` to ``end`` local time; a window may cross midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """Parse ``HH:MM-HH:MM``."""
        match = _WINDOW.match(text)
        if match is None:
            raise QuietHoursError(f'{text!r} is not a time window like "21:00-08:00"')
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise QuietHoursError(f"{text!r} has a time outside 00:00-23:59")
        if (h1, m1) == (h2, m2):
            raise QuietHoursError(f"{text!r} starts and ends at the same time")
        return cls(time(h1, m1), time(h2, m2))

    def contains(self, local: time) -> bool:
        """True when the local wall-clock time falls inside the window."""
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, instant: datetime, zone: ZoneInfo) -> datetime:
        """``instant`` itself, or the end of the quiet period it falls in (aware, UTC)."""
        local = instant.astimezone(zone)
        if not self.contains(local.time()):
            return instant
        end_day = local.date()
        if self.start > self.end and local.time() >= self.start:
            end_day += timedelta(days=1)
        # Build the wall-clock end in the zone; fold=0 picks the first of a repeated hour.
        end_local = datetime.combine(end_day, self.end, tzinfo=zone)
        return end_local.astimezone(instant.tzinfo)
