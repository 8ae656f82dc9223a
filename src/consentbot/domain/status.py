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


def counts_as_permission(status: ConsentStatus) -> bool:
    """Only ``active`` permits use of the data: pending is a yes that does not count yet."""
    return status is ConsentStatus.ACTIVE
