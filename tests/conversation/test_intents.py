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


@pytest.mark.parametrize("text", ["YES?", "yes ?", "جی ہاں؟", "ہاں؟", "HAAN?", "CÂNT?", "TAK?", "NA;", "IE？", "no?"])
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
    assert read(lexicon, "ji haan", ["ur"]).command is Command.YES


@pytest.mark.parametrize(
    ("text", "meant"),
    [("CÂNT", Command.YES), ("cant", Command.YES), ("Na chânt.", Command.NO), ("NA CHANT", Command.NO)],
)
def test_welsh_answers_to_a_gaiff_are_keywords_with_or_without_the_circumflex(
    lexicon: Lexicon, text: str, meant: Command
) -> None:
    """ "A gaiff ymchwilwyr...?" is answered "Cânt" or "Na chânt", often typed without the
    circumflex on a phone."""
    assert read(lexicon, text, ["cy"]).command is meant


def test_a_two_word_keyword_may_name_its_study_and_is_a_near_miss_inside_a_sentence(
    lexicon: Lexicon,
) -> None:
    assert read(lexicon, "NA CHANT JOINTS", ["cy"]) == Intent(command=Command.NO, study_keyword="JOINTS")
    assert read(lexicon, "joints na chânt", ["cy"]) == Intent(command=Command.NO, study_keyword="JOINTS")
    assert read(lexicon, "na chant diolch", ["cy"]) == Intent(
        near_miss=NearMiss(Command.NO, Miss.EXTRA_WORDS)
    )
    assert read(lexicon, "NA CHANT?", ["cy"]) == Intent(near_miss=NearMiss(Command.NO, Miss.QUESTION))


@pytest.mark.parametrize("text", ["جی", "JI", "jee", "جی؟"])
def test_a_bare_urdu_ji_is_not_yes(lexicon: Lexicon, text: str) -> None:
    """A bare "جی" also means "pardon?": it must never count as a yes."""
    intent = read(lexicon, text, ["ur"])
    assert intent.command is None
    assert intent.near_miss is None


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("HAAN", Command.YES),
        ("nahin", Command.NO),
        ("Aur", Command.MORE),
        ("TASDEEQ", Command.CONFIRM),
        ("intikhab", Command.CHOICES),
        ("badlein", Command.CHANGE),
        ("chhorain", Command.WITHDRAW),
        ("baad mein", Command.LATER),
        ("madad", Command.HELP),
        ("band", Command.STOP),
        ("shuru", Command.START),
        ("zuban", Command.LANGUAGE),
    ],
)
def test_roman_urdu_keywords_work(lexicon: Lexicon, text: str, meant: Command) -> None:
    assert read(lexicon, text, ["ur"]).command is meant


@pytest.mark.parametrize("text", ["WITHDRAW JOINTS", "joints withdraw", "Withdraw joints!"])
def test_a_command_may_name_its_study(lexicon: Lexicon, text: str) -> None:
    assert read(lexicon, text) == Intent(command=Command.WITHDRAW, study_keyword="JOINTS")


def test_the_first_word_stop_stops_whatever_follows(lexicon: Lexicon) -> None:
    assert read(lexicon, "stop texting me?").command is Command.STOP
    assert read(lexicon, "STOP JOINTS") == Intent(command=Command.STOP)


def test_a_language_word_counts_only_in_the_languages_read(lexicon: Lexicon) -> None:
    assert read(lexicon, "TAK", ["pl"]).command is Command.YES
    assert read(lexicon, "TAK", ["cy"]).command is None


words = st.sampled_from(
    ["YES", "NO", "TAK", "NIE", "IE", "NA", "CÂNT", "NA CHANT", "ہاں", "نہیں", "HAAN", "yes", "no"]
)


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
