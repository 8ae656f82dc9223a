"""Phone numbers in, E.164 out (phonenumbers), and which numbers we may start texting.

Reading a number someone texted us from is one thing (:func:`to_e164`); choosing to send
an SMS to a number a stranger typed into a form is another (:class:`SendingPolicy`): that
is how services get used for SMS pumping (toll fraud), so only real mobiles in the
regions the service serves qualify.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

FICTIONAL_UK_MOBILES = range(447700900000, 447700901000)
"""Ofcom's drama range (07700 900000 to 900999): never a real phone. phonenumbers calls it
invalid; demo mode allows it so a newcomer can try the journey with it."""


class PhoneNumberError(ValueError):
    """Not a phone number we can use; the message says what is wrong with it."""


def to_e164(raw: str, default_region: str) -> str:
    """Normalise ``raw`` ("07700 900123", "+44 7700 900123") to E.164 ("+447700900123")."""
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as error:
        raise PhoneNumberError("is not a phone number") from error
    if not phonenumbers.is_possible_number(parsed):
        raise PhoneNumberError("is not a possible phone number (check the number of digits)")
    result: str = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return result


@dataclass(frozen=True)
class SendingPolicy:
    """Which numbers may get a code or an invitation: valid mobiles in ``regions``."""

    regions: frozenset[str]
    default_region: str
    allow_fictional: bool = False

    @classmethod
    def of(cls, regions: Iterable[str], default_region: str, *, demo: bool) -> SendingPolicy:
        """The policy for these settings."""
        return cls(frozenset(r.upper() for r in regions), default_region, allow_fictional=demo)

    def sendable(self, raw: str) -> str:
        """``raw`` in E.164 if we may text it; :class:`PhoneNumberError` saying why not."""
        e164 = to_e164(raw, self.default_region)
        if self.allow_fictional and int(e164[1:]) in FICTIONAL_UK_MOBILES:
            return e164
        parsed = phonenumbers.parse(e164)
        if not phonenumbers.is_valid_number(parsed):
            raise PhoneNumberError("is not a number in use (check it digit by digit)")
        region = phonenumbers.region_code_for_number(parsed)
        if region not in self.regions:
            places = ", ".join(sorted(self.regions))
            raise PhoneNumberError(f"is not a mobile number from {places}")
        if phonenumbers.number_type(parsed) not in MOBILE_TYPES:
            raise PhoneNumberError("is not a mobile number (we can only text mobiles)")
        return e164
