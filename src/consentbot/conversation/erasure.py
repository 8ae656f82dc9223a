"""A verified deletion request as a turn: every purpose ends with removal, and is recorded.

Served by the study team (who checked who is asking), not said by the person, so it
has no reply: the number may be about to be removed, and the team tells them.
"""

from __future__ import annotations

from consentbot.conversation.engine import Context, TurnBuilder
from consentbot.conversation.outcome import CancelTimers, RevokeLinks, Turn
from consentbot.conversation.state import ConversationState
from consentbot.domain.timers import TimerKind
from consentbot.domain.transitions import ConsentAction
from consentbot.domain.withdrawal import WithdrawalLevel


def erase(ctx: Context, state: ConversationState) -> Turn:
    """One ``erase`` change per purpose of the study, whatever its status.

    A purpose already withdrawn (or never answered) still gets its event
    (``transitions.is_recorded``): the request changes what happens to data already
    given, and the ledger must show it for every purpose. The conversation starts
    afresh (nothing of it is kept), every timer is cancelled and links are revoked.
    """
    b = TurnBuilder(ctx, state)
    for purpose in ctx.study.purpose_ids:
        b.apply(purpose, ConsentAction.ERASE, WithdrawalLevel.NO_FURTHER_USE_AND_REMOVAL)
    b.state = ConversationState()
    b.effects.append(CancelTimers(frozenset(TimerKind)))
    b.effects.append(RevokeLinks())
    return b.turn()
