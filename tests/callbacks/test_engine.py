"""CALL in the pure engine: the reply, the effect, and that consent never changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from consentbot.content.model import Study
from consentbot.conversation.engine import Context, respond
from consentbot.conversation.intents import Intent
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.outcome import RequestCallback
from consentbot.conversation.state import ConversationState
from consentbot.conversation.vocabulary import Command
from consentbot.domain.cooling_off import PurposeConsent
from consentbot.domain.status import ConsentStatus
from tests.conversation.conftest import shared_lexicon, shared_studies
from tests.support.journey import STUDY, words

TUESDAY_10 = datetime(2026, 12, 1, 10, tzinfo=UTC)
"""ManualClock's START: a Tuesday, inside Mon-Fri 09:00-17:00 (London is on UTC in December)."""
FRIDAY_EVENING = datetime(2026, 12, 4, 18, tzinfo=UTC)


def study() -> Study:
    found = shared_studies().get(STUDY)
    assert found is not None
    return found


def call(
    *,
    now: datetime = TUESDAY_10,
    language: str = "en",
    callback_open: bool = False,
    the_study: Study | None = None,
    consent: dict[str, PurposeConsent] | None = None,
    state: ConversationState | None = None,
) -> tuple[str, tuple[object, ...], int, ConversationState]:
    lexicon: Lexicon = shared_lexicon()
    ctx = Context(
        the_study or study(),
        language,
        lexicon,
        consent or {},
        now,
        stopped=False,
        callback_open=callback_open,
    )
    before = state or ConversationState()
    turn = respond(ctx, before, Intent(command=Command.CALL))
    (reply,) = turn.replies
    return reply.text, turn.effects, len(turn.changes), turn.state


def test_sample_study_calls_back_on_weekdays() -> None:
    hours = study().callback_hours
    assert hours is not None
    assert hours.days == (0, 1, 2, 3, 4)


def test_call_inside_the_hours_queues_a_request_and_says_from_now() -> None:
    text, effects, changes, _ = call()
    assert effects == (RequestCallback(),)
    assert changes == 0
    assert "Expect a call from Tuesday 1 December at 10:00" in text
    assert "Monday to Friday, 09:00 to 17:00" in text
    assert "Nothing about your choices changes" in text


def test_call_after_friday_hours_expects_monday_morning() -> None:
    text, effects, _, _ = call(now=FRIDAY_EVENING)
    assert effects == (RequestCallback(),)
    assert "Expect a call from Monday 7 December at 09:00" in text


def test_call_in_welsh_names_days_and_time_in_welsh() -> None:
    text, effects, _, _ = call(now=FRIDAY_EVENING, language="cy")
    assert effects == (RequestCallback(),)
    assert "Dydd Llun" in text
    assert "Diolch" in text


def test_second_call_while_one_is_waiting_adds_nothing() -> None:
    text, effects, changes, _ = call(callback_open=True)
    assert effects == ()
    assert changes == 0
    assert "already asked us to phone you" in text


def test_a_study_without_callback_hours_gives_the_free_line() -> None:
    no_hours = replace(study(), callback_hours=None)
    text, effects, _, _ = call(the_study=no_hours)
    assert effects == ()
    assert "does not phone people back" in text
    assert study().contact.phone in text


def test_call_mid_questions_changes_no_consent_and_keeps_the_question() -> None:
    pending = {"records-research": PurposeConsent(ConsentStatus.PENDING, TUESDAY_10, TUESDAY_10)}
    asking = ConversationState().ask(study().purpose_ids[1:], changing=False)
    _, effects, changes, state = call(consent=pending, state=asking)
    assert changes == 0
    assert effects == (RequestCallback(),)
    assert state == asking


@pytest.mark.parametrize(("language", "word"), [("cy", "ffonio"), ("pl", "zadzwon"), ("ur", "fon karen"), ("ur", "کال")])
def test_each_language_has_its_own_call_word(language: str, word: str) -> None:
    lexicon = shared_lexicon()
    assert lexicon.read(word, [language], [STUDY]).command is Command.CALL
    assert lexicon.read("CALL", [language], [STUDY]).command is Command.CALL
    assert words(language).word(Command.CALL) != "CALL"
