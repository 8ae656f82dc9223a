"""Plain-language measures: the sentence splitter, LIX and the Flesch-Kincaid grade."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentbot.content.model import ReadingLimits
from consentbot.content.readability import (
    Measure,
    flesch_kincaid_grade,
    lix,
    long_sentences,
    measure_for,
    reading_level,
    split_sentences,
    words,
)


def texts_of(text: str) -> list[str]:
    return [sentence.text for sentence in split_sentences(text)]


def test_paragraphs_sentences_and_list_items_are_each_sentences() -> None:
    text = (
        "We use records from 2010 onwards. Is that fine?\n"
        "It is your choice!\n\n"
        "This includes:\n"
        "- illnesses\n"
        "* medicines you have\n"
        "  been given\n"
        "1. test results\n"
        "2) X-rays and scans"
    )
    assert texts_of(text) == [
        "We use records from 2010 onwards.",
        "Is that fine?",
        "It is your choice!",
        "This includes:",
        "illnesses",
        "medicines you have been given",
        "test results",
        "X-rays and scans",
    ]


def test_offsets_point_at_each_sentence() -> None:
    text = "First one.\n\n- second item\nThird, after the list. Fourth."
    for sentence in split_sentences(text):
        assert text[sentence.start :].startswith(sentence.text.split()[0])


def test_a_decimal_point_or_an_abbreviation_without_a_space_does_not_end_a_sentence() -> None:
    assert texts_of("About 1.5 in 10 people (see nhs.uk) said yes. Then more.") == [
        "About 1.5 in 10 people (see nhs.uk) said yes.",
        "Then more.",
    ]


def test_urdu_full_stop_and_question_mark_end_sentences() -> None:
    urdu = "فیصلہ آپ کا ہے۔ کیا آپ راضی ہیں؟ شکریہ"
    assert [s.words for s in split_sentences(urdu)] == [4, 4, 1]


def test_words_keep_welsh_apostrophes_apart_and_urdu_joiners_together() -> None:
    assert words("Mae'n ddewis i chi.") == ["Mae", "n", "ddewis", "i", "chi"]
    # A zero-width non-joiner sits inside one Urdu word.
    assert words("ہمیں\u200cیہ") == ["ہمیں\u200cیہ"]


def test_lix_is_words_per_sentence_plus_percentage_of_long_words() -> None:
    # 6 words in 2 sentences; "elephant" alone has more than 6 letters.
    assert lix("The cat sat. The elephant walked.") == pytest.approx(6 / 2 + 100 * 1 / 6)
    assert lix("") == 0.0
    assert lix("- \n\n...") == 0.0


def test_flesch_kincaid_grade_rises_with_long_words_and_sentences() -> None:
    plain = "We use your GP notes. You can say no. It will not change your care."
    dense = (
        "Pseudonymised longitudinal healthcare information, incorporating comprehensive "
        "diagnostic, prescribing and radiological documentation, will be systematically "
        "analysed by authorised investigators within a secure computational environment."
    )
    assert flesch_kincaid_grade(plain) < 6 < flesch_kincaid_grade(dense)
    assert flesch_kincaid_grade("") == 0.0


def test_english_gets_flesch_kincaid_and_every_other_language_lix() -> None:
    assert measure_for("en") is Measure.FLESCH_KINCAID
    assert measure_for("en_GB") is Measure.FLESCH_KINCAID
    assert {measure_for(code) for code in ("cy", "pl", "ur", "eng")} == {Measure.LIX}
    limits = ReadingLimits(grade=3, lix=90)
    level = reading_level("Czy badacze mogą analizować dokumentację?", "pl", limits)
    assert (level.measure, level.limit, level.too_hard) == (Measure.LIX, 90, False)
    assert reading_level("Pseudonymised documentation.", "en", limits).too_hard


def test_long_sentences_are_those_over_the_limit() -> None:
    text = "One two three. One two three four five.\n- one two three four"
    assert [s.words for s in long_sentences(text, 3)] == [5, 4]
    assert long_sentences(text, 5) == []


# Words in three scripts, punctuation, spaces, paragraph breaks and list markers that
# only ever start a line: the shape of the details authors write.
TOKENS = (
    *("we", "records", "ŵyr", "dokumentację", "ہم", "ریکارڈ", "X-rays"),
    *(" ", " ", " ", ", ", ". ", "? ", "! ", "۔ ", "؟ ", ".", "\n", "\n\n", "\n- ", "\n1. "),
)


@st.composite
def markdownish(draw: st.DrawFn) -> str:
    """Paragraphs of words and punctuation, some lines list items."""
    return "".join(draw(st.lists(st.sampled_from(TOKENS), max_size=60)))


@given(markdownish())
def test_splitting_keeps_every_word_once(text: str) -> None:
    markers = sum(1 for line in text.splitlines() if line.startswith("1. "))
    assert sum(s.words for s in split_sentences(text)) == len(words(text)) - markers


@given(markdownish())
def test_splitting_is_stable(text: str) -> None:
    sentences = texts_of(text)
    assert all(texts_of(sentence) == [sentence] for sentence in sentences)
    assert texts_of("\n\n".join(sentences)) == sentences


@given(markdownish())
def test_each_sentence_starts_where_its_offset_says(text: str) -> None:
    for sentence in split_sentences(text):
        assert " ".join(text[sentence.start :].split()).startswith(sentence.text)


@given(st.text())
def test_lix_is_never_negative_nor_above_words_plus_one_hundred(text: str) -> None:
    score = lix(text)
    assert 0 <= score <= len(words(text)) + 100
