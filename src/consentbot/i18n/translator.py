"""One language's gettext catalog plus Babel formatting in a time zone."""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_time, format_timedelta
from babel.lists import format_list

# CLDR puts narrow and ordinary no-break spaces in some formats ("6:31\u202fPM");
# outside GSM-7 they would triple the cost of an SMS, and they read the same as a space.
_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})


_Unit = Literal["week", "day", "hour", "minute", "second"]
_EXACT_UNITS: tuple[tuple[_Unit, int], ...] = (
    ("week", 604800),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
    ("second", 1),
)


_DATES_KEPT = 4096
"""Formatted times a translator keeps: a few days of minutes; past that it starts again."""


def _ceil_minute(moment: datetime) -> datetime:
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


@dataclass(frozen=True)
class Translator:
    """Translate and format for one language. Immutable; share freely between requests."""

    language: str
    catalog: gettext.NullTranslations
    region: str = "GB"
    """Formats dates and times as people in this region expect, where CLDR has that
    combination (en_GB: "14:00", not "2:00 PM"); otherwise the language's own formats."""

    @cached_property
    def locale(self) -> Locale:
        """Babel's locale for formatting in this language (parsed once: every date in a
        reminder is formatted with it)."""
        try:
            return Locale.parse(f"{self.language}_{self.region}")
        except (UnknownLocaleError, ValueError):
            return Locale.parse(self.language)

    def gettext(self, message: str) -> str:
        """Translate ``message``."""
        return self.catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate with the language's plural rules."""
        return self.catalog.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        """Translate ``message`` in ``context`` (keywords use the context "keyword")."""
        return self.catalog.pgettext(context, message)

    def date_and_time(self, moment: datetime, zone: ZoneInfo) -> str:
        """ "Tuesday 3 December at 14:00" in this language, in the study's time zone.

        Rounded *up* to the minute: a time we give is a promise ("you can confirm from
        08:29"), so it must never be earlier than the truth (08:28:50).
        """
        minute = _ceil_minute(moment)
        key = (minute, zone.key)
        known = self._dates.get(key)
        if known is not None:
            return known
        local = minute.astimezone(zone)
        # Translators: a CLDR date pattern for weekday, day and month, e.g. "EEEE d MMMM".
        pattern = self.pgettext("date pattern", "EEEE d MMMM")
        day = format_datetime(local, pattern, locale=self.locale)
        clock = format_time(local, "short", locale=self.locale)
        text = self.gettext("{day} at {time}").format(day=day, time=clock).translate(_SPACES)
        if len(self._dates) >= _DATES_KEPT:
            self._dates.clear()
        self._dates[key] = text
        return text

    @cached_property
    def _dates(self) -> dict[tuple[datetime, str], str]:
        """Times already formatted, by minute and zone. People who answered in the same
        minute are reminded in the same round, each told the same time: Babel formats it
        once (about 20 µs), not once a reminder."""
        return {}

    def either(self, options: list[str]) -> str:
        """ "A, B or C" with this language's words and punctuation."""
        return format_list(options, style="or", locale=self.locale)

    def duration(self, delta: timedelta) -> str:
        """ "1 day", "36 hours", "2 weeks", in this language: the largest exact unit.

        Babel alone would round 36 hours to "2 days"; a cooling-off period must be
        stated exactly, so the unit is the largest that divides the duration.
        """
        seconds = int(delta.total_seconds())
        for unit, size in _EXACT_UNITS:
            if seconds % size == 0 or unit == "second":
                count = seconds / size
                # A threshold equal to the count makes Babel pick exactly this unit.
                text = format_timedelta(
                    delta,
                    threshold=max(count, 1),
                    granularity=unit,
                    format="long",
                    locale=self.locale,
                )
                return text.translate(_SPACES)
        raise AssertionError("unreachable")

    @property
    def right_to_left(self) -> bool:
        """True for scripts written right to left (Urdu)."""
        return bool(Locale.parse(self.language).character_order == "right-to-left")

    def isolate(self, value: str) -> str:
        """Keep a left-to-right value (a phone number, an email, a keyword) in its own order.

        In right-to-left text "+44 161 000 0000" would otherwise show as
        "0000 000 161 44+". Unicode isolates (LRI ... PDI) fix it in SMS and in HTML;
        left-to-right languages get the value unchanged (so English stays GSM-7).
        """
        return f"\u2066{value}\u2069" if self.right_to_left else value

    def language_name(self, code: str) -> str:
        """A language's own name ("Cymraeg", "polski", "اردو")."""
        return Locale.parse(code).get_display_name(code) or code
