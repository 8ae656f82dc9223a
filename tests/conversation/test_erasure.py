"""A deletion request as a turn: every purpose ends with removal, each with its own event."""

from __future__ import annotations

from consentbot.conversation.erasure import erase
from consentbot.conversation.outcome import CancelTimers, ConsentChange, RevokeLinks
from consentbot.conversation.state import ConversationState
from consentbot.domain.status import ConsentStatus as S
from consentbot.domain.timers import TimerKind
from consentbot.domain.transitions import ConsentAction
from consentbot.domain.withdrawal import WithdrawalLevel
from tests.conversation.conftest import Conversation

REMOVAL = WithdrawalLevel.NO_FURTHER_USE_AND_REMOVAL


def test_every_purpose_is_withdrawn_with_removal_whatever_it_was(conversation: Conversation) -> None:
    conversation.send("YES")
    for answer in ["YES", "NO", "YES"]:  # records pending, social declined, commercial pending
        conversation.send(answer)
    before = dict(conversation.statuses())
    turn = conversation.apply(erase(conversation.context(), conversation.state))
    assert turn.changes == tuple(
        ConsentChange(purpose, ConsentAction.ERASE, S(before[purpose]), S.WITHDRAWN, REMOVAL)
        for purpose in conversation.study.purpose_ids
    )
    assert [change.from_status for change in turn.changes] == [S.PENDING, S.DECLINED, S.PENDING, S.NONE, S.NONE]
    assert set(conversation.statuses().values()) == {"withdrawn"}


def test_a_purpose_already_withdrawn_still_gets_its_event(conversation: Conversation) -> None:
    conversation.send("YES")
    for answer in ["YES", "YES", "YES", "YES", "YES"]:
        conversation.send(answer)
    conversation.send("WITHDRAW")
    assert set(conversation.statuses().values()) == {"withdrawn"}
    turn = erase(conversation.context(), conversation.state)
    assert len(turn.changes) == len(conversation.study.purpose_ids)
    assert all(
        (c.from_status, c.to_status, c.withdrawal_level) == (S.WITHDRAWN, S.WITHDRAWN, REMOVAL)
        for c in turn.changes
    )


def test_no_reply_no_conversation_left_and_every_timer_cancelled(conversation: Conversation) -> None:
    conversation.send("MORE")
    conversation.send("YES")  # now asking the first question, on the topic list
    assert conversation.state != ConversationState()
    turn = erase(conversation.context(), conversation.state)
    assert turn.replies == ()
    assert turn.state == ConversationState()
    assert turn.effects == (CancelTimers(frozenset(TimerKind)), RevokeLinks())
