"""Reading a message: words that change consent must be unmistakable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentbot.conversation.intents import QUESTION_MARKS, Intent, Miss, NearMiss
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.vocabulary import Command
from tests.conversation.conftest import shared_lexicon
from tests.support.journey import STUDY

ALL_LANGUAGES = ["en", "cy", "pl", "ur"]


def read(lexicon: Lexicon, text: str, languages: list[str] | None = None) -> Intent:
    return lexicon.read(text, languages or ALL_LANGUAGES, [STUDY])


@pytest.mark.parametrize("text", ["YES?", "yes ?", "جی؟", "ہاں؟", "TAK?", "NA;", "IE？", "no?"])
def test_a_question_is_never_an_answer(lexicon: Lexicon, text: str) -> None:
    intent = read(lexicon, text)
    assert intent.command is None
    assert intent.near_miss is not None
    assert intent.near_miss.why is Miss.QUESTION


@pytest.mark.parametrize(("text", "meant"), [("CONFIRM?", Command.CONFIRM), ("withdraw?", Command.WITHDRAW)])
def test_a_question_never_confirms_or_withdraws(lexicon: Lexicon, text: str, meant: Command) -> None:
    assert read(lexicon, text) == Intent(near_miss=NearMiss(meant, Miss.QUESTION))


def test_a_question_mark_does_not_stop_reading_help_or_more(lexicon: Lexicon) -> None:
    assert read(lexicon, "MORE?").command is Command.MORE
    assert read(lexicon, "help?").command is Command.HELP


@pytest.mark.parametrize(
    ("text", "meant", "why"),
    [
        ("yes please", Command.YES, Miss.EXTRA_WORDS),
        ("ok no", Command.NO, Miss.EXTRA_WORDS),
        ("no idea what this means", Command.NO, Miss.EXTRA_WORDS),
        ("tak tak", Command.YES, Miss.EXTRA_WORDS),
        ("Y", Command.YES, Miss.LETTER),
        ("n.", Command.NO, Miss.LETTER),
    ],
)
def test_near_misses_name_the_word_to_send(
    lexicon: Lexicon, text: str, meant: Command, why: Miss
) -> None:
    assert read(lexicon, text) == Intent(near_miss=NearMiss(meant, why))


def test_yes_and_no_together_is_not_a_near_miss(lexicon: Lexicon) -> None:
    assert read(lexicon, "yes no") == Intent()


def test_whole_words_of_several_words_still_count(lexicon: Lexicon) -> None:
    assert read(lexicon, "NAC OES", ["cy"]).command is Command.NO
    assert read(lexicon, "جی ہاں", ["ur"]).command is Command.YES


@pytest.mark.parametrize("text", ["WITHDRAW JOINTS", "joints withdraw", "Withdraw joints!"])
def test_a_command_may_name_its_study(lexicon: Lexicon, text: str) -> None:
    assert read(lexicon, text) == Intent(command=Command.WITHDRAW, study_keyword="JOINTS")


def test_the_first_word_stop_stops_whatever_follows(lexicon: Lexicon) -> None:
    assert read(lexicon, "stop texting me?").command is Command.STOP
    assert read(lexicon, "STOP JOINTS") == Intent(command=Command.STOP)


def test_a_language_word_counts_only_in_the_languages_read(lexicon: Lexicon) -> None:
    assert read(lexicon, "TAK", ["pl"]).command is Command.YES
    assert read(lexicon, "TAK", ["cy"]).command is None


words = st.sampled_from(["YES", "NO", "TAK", "NIE", "IE", "NA", "ہاں", "نہیں", "JI", "yes", "no"])


@given(word=words, mark=st.sampled_from(sorted(QUESTION_MARKS)), space=st.sampled_from(["", " ", "  "]))
def test_property_no_answer_ends_with_a_question_mark(word: str, mark: str, space: str) -> None:
    intent = read(shared_lexicon(), f"{word}{space}{mark}")
    assert intent.command not in (Command.YES, Command.NO)


@given(
    word=words,
    others=st.lists(st.sampled_from(["please", "ok", "thanks", "maybe", "I", "think"]), min_size=1, max_size=3),
    before=st.booleans(),
)
def test_property_an_answer_with_other_words_is_never_taken(
    word: str, others: list[str], before: bool
) -> None:
    text = " ".join([*others, word] if before else [word, *others])
    intent = read(shared_lexicon(), text)
    assert intent.command is None
    assert intent.near_miss is not None
