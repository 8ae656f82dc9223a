"""The consent state machine: one explicit table of (status, action) -> status.

A pair missing from the table leaves the status as it is. That is deliberate: a
repeated answer, a CONFIRM with nothing pending or a WITHDRAW of a purpose never
agreed to changes nothing and writes no ledger event. The one exception is ERASE:
it is always recorded, because it changes what happens to data already given
(the withdrawal level) even for a purpose that was withdrawn before.
"""

from __future__ import annotations

from enum import StrEnum

from consentbot.domain.status import ConsentStatus as S


class ConsentAction(StrEnum):
    """What can happen to one purpose. Values are stored in the ledger as the reason."""

    ANSWER_YES = "answer-yes"
    ANSWER_NO = "answer-no"
    CONFIRM = "confirm"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    ERASE = "erase"
    """A verified deletion request: no further use, and removal where still possible."""
    REQUIRE_RECONSENT = "require-reconsent"
    """A published version changed this purpose materially: the yes no longer counts."""


A = ConsentAction

TRANSITIONS: dict[tuple[S, ConsentAction], S] = {
    # A yes never counts by itself: it starts (or restarts) cooling-off.
    (S.NONE, A.ANSWER_YES): S.PENDING,
    (S.DECLINED, A.ANSWER_YES): S.PENDING,
    (S.WITHDRAWN, A.ANSWER_YES): S.PENDING,
    (S.EXPIRED, A.ANSWER_YES): S.PENDING,
    # Saying no takes effect at once; from a yes it is a withdrawal.
    (S.NONE, A.ANSWER_NO): S.DECLINED,
    (S.EXPIRED, A.ANSWER_NO): S.DECLINED,
    (S.PENDING, A.ANSWER_NO): S.WITHDRAWN,
    (S.ACTIVE, A.ANSWER_NO): S.WITHDRAWN,
    # The only way to permission. The caller must check the cooling-off has ended
    # (see cooling_off.can_confirm); the table only knows statuses.
    (S.PENDING, A.CONFIRM): S.ACTIVE,
    (S.PENDING, A.WITHDRAW): S.WITHDRAWN,
    (S.ACTIVE, A.WITHDRAW): S.WITHDRAWN,
    (S.PENDING, A.EXPIRE): S.EXPIRED,
    # A material change: a yes given to the old text stops counting until asked again.
    (S.PENDING, A.REQUIRE_RECONSENT): S.RECONSENT_REQUIRED,
    (S.ACTIVE, A.REQUIRE_RECONSENT): S.RECONSENT_REQUIRED,
    # Asked again: a yes cools off like any yes; a no, or no answer in time, ends it.
    (S.RECONSENT_REQUIRED, A.ANSWER_YES): S.PENDING,
    (S.RECONSENT_REQUIRED, A.ANSWER_NO): S.WITHDRAWN,
    (S.RECONSENT_REQUIRED, A.WITHDRAW): S.WITHDRAWN,
    (S.RECONSENT_REQUIRED, A.EXPIRE): S.EXPIRED,
    # Erasure ends every purpose, whatever it was (level no-further-use-and-removal).
    **{(status, A.ERASE): S.WITHDRAWN for status in S},
}


def next_status(current: S, action: ConsentAction) -> S:
    """The status after ``action``; the same status when the action changes nothing."""
    return TRANSITIONS.get((current, action), current)


def is_recorded(current: S, action: ConsentAction) -> bool:
    """Whether ``action`` on a purpose at ``current`` writes a ledger event."""
    return action is A.ERASE or next_status(current, action) is not current
