"""Cooling-off arithmetic: when a yes may be confirmed, and when it lapses.

A yes starts a cooling-off period (time to think). CONFIRM works only once it has
ended, and only until ``confirm_within`` after that; then the yes expires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from consentbot.domain.status import ConsentStatus


@dataclass(frozen=True, slots=True)
class CoolingOff:
    """A study's timing rules."""

    period: timedelta
    confirm_within: timedelta

    def opens_at(self, pending_since: datetime) -> datetime:
        """The first moment CONFIRM works for a yes given at ``pending_since``."""
        return pending_since + self.period

    def expires_at(self, pending_since: datetime) -> datetime:
        """The moment a yes given at ``pending_since`` lapses if not confirmed."""
        return pending_since + self.period + self.confirm_within

    def can_confirm(self, pending_since: datetime, now: datetime) -> bool:
        """True while CONFIRM may turn this yes into permission."""
        return self.opens_at(pending_since) <= now < self.expires_at(pending_since)

    def has_expired(self, pending_since: datetime, now: datetime) -> bool:
        """True once the window to confirm has closed."""
        return now >= self.expires_at(pending_since)


@dataclass(frozen=True, slots=True)
class PurposeConsent:
    """The current consent of one purpose, as the rules need it."""

    status: ConsentStatus
    since: datetime | None = None
    pending_since: datetime | None = None


NO_ANSWER = PurposeConsent(ConsentStatus.NONE)
"""A purpose the person has not answered (frozen: one instance serves everyone)."""


def _pending_where(
    consents: Mapping[str, PurposeConsent], keep: Callable[[datetime], bool]
) -> list[str]:
    """Pending purposes, in the given order, whose yes-time satisfies ``keep``."""
    return [
        purpose
        for purpose, consent in consents.items()
        if consent.status is ConsentStatus.PENDING
        and consent.pending_since is not None
        and keep(consent.pending_since)
    ]


def confirmable(
    consents: Mapping[str, PurposeConsent], rules: CoolingOff, now: datetime
) -> list[str]:
    """Purposes whose pending yes may be confirmed now."""
    return _pending_where(consents, lambda since: rules.can_confirm(since, now))


def still_cooling(
    consents: Mapping[str, PurposeConsent], rules: CoolingOff, now: datetime
) -> list[str]:
    """Pending purposes whose cooling-off has not ended yet."""
    return _pending_where(consents, lambda since: now < rules.opens_at(since))


def lapsed(consents: Mapping[str, PurposeConsent], rules: CoolingOff, now: datetime) -> list[str]:
    """Pending purposes whose window to confirm has closed."""
    return _pending_where(consents, lambda since: rules.has_expired(since, now))


def reconsent_closes_at(consent: PurposeConsent, rules: CoolingOff) -> datetime | None:
    """When a purpose asked again after a change lapses if not answered (None: not asked)."""
    if consent.status is not ConsentStatus.RECONSENT_REQUIRED or consent.since is None:
        return None
    return consent.since + rules.confirm_within


def reconsent_lapsed(
    consents: Mapping[str, PurposeConsent], rules: CoolingOff, now: datetime
) -> list[str]:
    """Purposes asked again after a change whose time to answer has run out."""
    return [
        purpose
        for purpose, consent in consents.items()
        if (closes := reconsent_closes_at(consent, rules)) is not None and now >= closes
    ]


def next_reconsent_deadline(
    consents: Mapping[str, PurposeConsent], rules: CoolingOff
) -> datetime | None:
    """The earliest moment a purpose still waiting to be asked again lapses."""
    times = [
        closes
        for consent in consents.values()
        if (closes := reconsent_closes_at(consent, rules)) is not None
    ]
    return min(times) if times else None


def latest_opening(pending_since: Iterable[datetime], rules: CoolingOff) -> datetime | None:
    """When every given yes may be confirmed: the reminder time for a round of answers."""
    times = [rules.opens_at(moment) for moment in pending_since]
    return max(times) if times else None
