"""The consent statuses a purpose can have, and which of them is permission."""

from __future__ import annotations

from enum import StrEnum


class ConsentStatus(StrEnum):
    """Per participant, per study, per purpose.

    The values are part of the research API and the ledger: never rename them.
    """

    NONE = "none"
    """No answer yet."""
    PENDING = "pending"
    """Said yes; the cooling-off period is running or CONFIRM has not come yet."""
    ACTIVE = "active"
    """Said yes and confirmed after cooling-off."""
    DECLINED = "declined"
    """Said no (or declined the required purpose)."""
    WITHDRAWN = "withdrawn"
    """Was pending or active, then withdrew."""
    EXPIRED = "expired"
    """Pending, but not confirmed within the study's confirm_within."""
    RECONSENT_REQUIRED = "reconsent_required"
    """Was pending or active; the study changed this purpose materially and asks again."""


MEANINGS: dict[ConsentStatus, str] = {
    ConsentStatus.NONE: "The person has not answered this question.",
    ConsentStatus.PENDING: "The person said yes, but it does not count until they confirm "
    "after their time to think.",
    ConsentStatus.ACTIVE: "The person said yes and confirmed it: their data may be used for this.",
    ConsentStatus.DECLINED: "The person said no.",
    ConsentStatus.WITHDRAWN: "The person said yes before, then withdrew.",
    ConsentStatus.EXPIRED: "The person said yes but did not confirm in time, so it does not count.",
    ConsentStatus.RECONSENT_REQUIRED: "The study changed this use of data after the person said "
    "yes, so that yes does not count; they have been asked again and not answered yet.",
}
"""Each status in plain words, for people reading the research API's answers."""


def counts_as_permission(status: ConsentStatus) -> bool:
    """Only ``active`` permits use of the data: pending is a yes that does not count yet."""
    return status is ConsentStatus.ACTIVE
