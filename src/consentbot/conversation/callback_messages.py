"""What the bot says about call-backs (CALL), in the person's language and the study's zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import format_time

from consentbot.content.model import Contact
from consentbot.conversation.messages import Say
from consentbot.domain.callbacks import CallbackHours
from consentbot.i18n.translator import Translator

_A_MONDAY = date(2026, 1, 5)
"""Any Monday: Babel names weekdays from a date, so day n is this date plus n days."""


def _day_name(t: Translator, weekday: int) -> str:
    name: str = t.locale.days["format"]["wide"][weekday]
    return name


def hours_text(t: Translator, hours: CallbackHours) -> str:
    """ "Monday to Friday, 09:00 to 17:00" in ``t``'s language (clock as its region writes it)."""
    first, last = _day_name(t, hours.first_day), _day_name(t, hours.last_day)
    days = (
        first
        if hours.first_day == hours.last_day
        # Translators: a run of weekdays, e.g. "Monday to Friday".
        else t.gettext("{first} to {last}").format(first=first, last=last)
    )
    on_day = datetime.combine(_A_MONDAY + timedelta(days=hours.first_day), hours.start)
    start = format_time(on_day, "short", locale=t.locale)
    end = format_time(
        on_day.replace(hour=hours.end.hour, minute=hours.end.minute), "short", locale=t.locale
    )
    # Translators: when the study team makes calls, e.g. "Monday to Friday, 09:00 to 17:00".
    text = t.gettext("{days}, {start} to {end}").format(days=days, start=start, end=end)
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def callback_queued(say: Say, expect_from: datetime, hours: CallbackHours) -> str:
    """CALL taken: when to expect the call, and that nothing about consent changes on it."""
    return say.t.gettext(
        "Thank you. Someone from the study team will phone you back. Expect a call from "
        "{when}. We call {hours}. Nothing about your choices changes on the call."
    ).format(when=say.t.date_and_time(expect_from, say.zone), hours=hours_text(say.t, hours))


def callback_already_queued(say: Say) -> str:
    """A second CALL while the first is still waiting."""
    return say.t.gettext(
        "You have already asked us to phone you. Your request is in the queue: "
        "someone from the study team will call you."
    )


def no_callbacks(say: Say, contact: Contact) -> str:
    """CALL in a study that offers no call-backs: the free phone line instead."""
    return say.t.gettext(
        "This study does not phone people back. You can call the study team free on {phone}."
    ).format(phone=say.t.isolate(contact.phone))
