"""A verified deletion request as a turn: every purpose ends with removal, and is recorded.

Served by the study team (who checked who is asking), not said by the person, so it
has no reply: the number may be about to be removed, and the team tells them.
"""

from __future__ import annotations

from consentbot.conversation.engine import Context, TurnBuilder
from consentbot.conversation.outcome import CancelTimers, ConsentChange, Turn
from consentbot.conversation.state import ConversationState
from consentbot.domain.cooling_off import PurposeConsent
from consentbot.domain.timers import TimerKind
from consentbot.domain.transitions import ConsentAction, is_recorded, next_status
from consentbot.domain.withdrawal import WithdrawalLevel

ERASE = ConsentAction.ERASE
LEVEL = WithdrawalLevel.NO_FURTHER_USE_AND_REMOVAL


def erase(ctx: Context, state: ConversationState) -> Turn:
    """One ``erase`` change per purpose of the study, whatever its status.

    Unlike :meth:`TurnBuilder.apply`, a purpose already withdrawn (or never answered)
    still gets its event: the request changes what happens to data already given,
    and the ledger must show it for every purpose. The conversation starts afresh
    (nothing of it is kept) and every timer is cancelled.
    """
    b = TurnBuilder(ctx, state)
    for purpose in ctx.study.purpose_ids:
        current = b.consent[purpose].status
        if not is_recorded(current, ERASE):
            continue
        target = next_status(current, ERASE)
        b.consent[purpose] = PurposeConsent(target, ctx.now)
        b.changes.append(ConsentChange(purpose, ERASE, current, target, LEVEL))
    b.state = ConversationState()
    b.effects.append(CancelTimers(frozenset(TimerKind)))
    return b.turn()
