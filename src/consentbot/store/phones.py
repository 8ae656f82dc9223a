"""Phone numbers in, E.164 out (phonenumbers), with a clear error for anything else."""

from __future__ import annotations

import phonenumbers


class PhoneNumberError(ValueError):
    """Not a phone number we can send an SMS to."""


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
