"""Receipt references: ``R-7QF3-M2XA``, short enough to text and to read out on the phone.

Crockford base32: digits and capitals without I, L, O and U, so nothing reads as
another character. Eight random characters (40 bits); the store checks each new one
against those already issued before using it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32 alphabet."""
PREFIX = "R-"
LENGTH = 8
PATTERN = re.compile(r"^R-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
"""What a person may type for a character Crockford leaves out."""


def new_reference(pick: Callable[[int], int] = secrets.randbelow) -> str:
    """A random reference; ``pick(n)`` returns an integer below ``n`` (secure by default)."""
    chars = "".join(ALPHABET[pick(len(ALPHABET))] for _ in range(LENGTH))
    return f"{PREFIX}{chars[:4]}-{chars[4:]}"


def read_reference(text: str) -> str | None:
    """The reference someone typed (any case, spaces, O for 0...), or None if it is not one."""
    compact = re.sub(r"[\s-]", "", text).upper()
    compact = compact.removeprefix("R")
    compact = compact.translate(_READ_AS)
    if len(compact) != LENGTH or any(char not in ALPHABET for char in compact):
        return None
    return f"{PREFIX}{compact[:4]}-{compact[4:]}"
