"""The purposes a participant permits today, kept as one short text on their row.

A data pipeline's consent check asks about up to 100,000 participants at once. Reading
each one's status from consent_state costs a second index probe per participant; with the
permitted purposes on the participant row, one probe of one index answers the whole
question. The text is a projection like consent_state itself: the ledger writes both in
the same transaction, and ``audit verify`` checks it against the replayed ledger.

The form is `` a b `` (purpose ids are slugs: no spaces), sorted, with a space before and
after each id so that a purpose is found by looking for `` id ``; no purpose is ``""``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from consentbot.domain.status import ConsentStatus, counts_as_permission


def encode(purposes: Iterable[str]) -> str:
    """The stored form of ``purposes`` (any order, duplicates allowed)."""
    ordered = sorted(set(purposes))
    return f" {' '.join(ordered)} " if ordered else ""


def decode(stored: str) -> frozenset[str]:
    """The purposes in a stored text."""
    return frozenset(stored.split())


def permits(stored: str, purpose: str) -> bool:
    """Whether the stored text holds ``purpose``."""
    return f" {purpose} " in stored


def after_change(stored: str, purpose: str, status: ConsentStatus) -> str:
    """The stored text once ``purpose`` has become ``status``."""
    held = decode(stored)
    if counts_as_permission(status):
        return encode(held | {purpose})
    return encode(held - {purpose})


def from_statuses(statuses: Mapping[str, str]) -> str:
    """The stored text for a participant whose purposes have these statuses."""
    return encode(
        purpose for purpose, status in statuses.items() if status == ConsentStatus.ACTIVE.value
    )
