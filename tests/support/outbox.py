"""Compare what the outbox stores (secrets redacted) with what a phone received."""

from __future__ import annotations

import re

from consentbot.store.outbox import SECRET_MARKER


def filled_secret(stored: str, received: str) -> str | None:
    """The secret ``received`` holds where ``stored`` has the marker.

    "" when ``stored`` has no marker and the texts are equal; None when the texts
    differ anywhere else, or the marker stands for different texts in one message.
    """
    pieces = [re.escape(piece) for piece in stored.split(SECRET_MARKER)]
    match = re.fullmatch(r"(\S+)".join(pieces), received, re.S)
    if match is None:
        return None
    found = set(match.groups())
    if len(found) > 1:
        return None
    return found.pop() if found else ""


def same_message(stored: str, received: str) -> bool:
    """Whether ``received`` is ``stored`` with its secret (if any) put back."""
    return filled_secret(stored, received) is not None
