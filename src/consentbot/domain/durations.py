"""ISO 8601 durations as study authors write them (``P1D``, ``PT12H``, ``P2W``).

Years and months are refused: their length depends on the calendar, and a
cooling-off period must mean the same number of hours to everyone.
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


class DurationError(ValueError):
    """The text is not an ISO 8601 duration of weeks, days, hours, minutes or seconds."""


def parse_duration(text: str) -> timedelta:
    """Parse ``P[nW][nD][T[nH][nM][nS]]``; raise :class:`DurationError` otherwise."""
    match = _DURATION.match(text.strip().upper())
    if match is None:
        raise DurationError(
            f"{text!r} is not an ISO 8601 duration like P1D, PT12H or P2W "
            "(years and months are not allowed)"
        )
    parts = {name: int(value) for name, value in match.groupdict().items() if value}
    return timedelta(**parts)


def format_duration(delta: timedelta) -> str:
    """The ISO 8601 form of ``delta`` (inverse of :func:`parse_duration`)."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    date_part = f"{days}D" if days else ""
    time_part = "".join(
        f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if value
    )
    if not date_part and not time_part:
        return "PT0S"
    return "P" + date_part + ("T" + time_part if time_part else "")
