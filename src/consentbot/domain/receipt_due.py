"""Which turns earn a receipt: those where the person's permission was given, taken back
or put in question, the moments they may want proof of later."""

from __future__ import annotations

from collections.abc import Iterable

from consentbot.domain.status import ConsentStatus
from consentbot.domain.transitions import ConsentAction

ALWAYS = frozenset({ConsentAction.CONFIRM, ConsentAction.WITHDRAW, ConsentAction.REQUIRE_RECONSENT})
"""CONFIRM (a yes starts to count), WITHDRAW, and a re-consent request from the study."""
HAD_A_YES = frozenset(
    {ConsentStatus.PENDING, ConsentStatus.ACTIVE, ConsentStatus.RECONSENT_REQUIRED}
)


def receipt_due(changes: Iterable[tuple[ConsentAction, ConsentStatus]], *, changing: bool) -> bool:
    """Whether a turn with these ``(action, from status)`` changes gets a receipt.

    ``changing``: the person was answering the questions again (after CHANGE, or when
    the study asks again), so an answer changes what they agreed to. A NO to a purpose
    that had a yes is a withdrawal too. A first yes, and a yes to a question the study
    asks again, still cool off: their receipt comes with CONFIRM. Expiry (a timer) and
    erasure (nothing more is written about the person) get none.
    """
    for action, before in changes:
        if action in ALWAYS:
            return True
        if action is ConsentAction.ANSWER_NO and before in HAD_A_YES:
            return True
        if changing and action is ConsentAction.ANSWER_NO:
            return True
        if (
            changing
            and action is ConsentAction.ANSWER_YES
            and before is not ConsentStatus.RECONSENT_REQUIRED
        ):
            return True
    return False
