"""The receipt line, in each shipped language, and where it goes in a turn."""

from __future__ import annotations

import pytest

from consentbot.conversation.outcome import Reply, Turn
from consentbot.conversation.receipt_messages import receipt_line, with_receipt
from consentbot.conversation.state import ConversationState
from consentbot.domain.sms_segments import encoding_for
from tests.support.journey import translator


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Your receipt: R-7QF3-M2XA"),
        ("cy", "Eich derbynneb: R-7QF3-M2XA"),
        ("pl", "Twoje pokwitowanie: R-7QF3-M2XA"),
        # Right to left: the reference keeps its own order inside an isolate.
        ("ur", "آپ کی رسید: \u2066R-7QF3-M2XA\u2069"),
    ],
)
def test_the_line_in_each_language(language: str, expected: str) -> None:
    assert receipt_line(translator(language), "R-7QF3-M2XA") == expected


def test_english_stays_in_the_cheaper_sms_alphabet() -> None:
    assert encoding_for(receipt_line(translator("en"), "R-7QF3-M2XA")) == "gsm7"


def test_the_line_follows_the_replies_and_a_silent_turn_stays_silent() -> None:
    turn = Turn(ConversationState(), (Reply("Thank you."),), prompts=True)
    assert with_receipt(turn, "Your receipt: R-7QF3-M2XA").replies == (
        Reply("Thank you."),
        Reply("Your receipt: R-7QF3-M2XA"),
    )
    assert with_receipt(turn, "x").prompts is True
    silent = Turn(ConversationState())
    assert with_receipt(silent, "Your receipt: R-7QF3-M2XA") is silent
