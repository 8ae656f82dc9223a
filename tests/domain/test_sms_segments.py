"""GSM-7 / UCS-2 segment arithmetic: worked examples and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentbot.domain.sms_segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    GSM7_MULTI,
    GSM7_SINGLE,
    UCS2_MULTI,
    UCS2_SINGLE,
    encoding_for,
    is_gsm7,
    measured,
    plan_messages,
    planned,
    segment_count,
    septet_length,
    split_segments,
    ucs2_length,
)

URDU = "ا"  # ARABIC LETTER ALEF, one UTF-16 unit
EMOJI = "😀"  # U+1F600, a surrogate pair in UTF-16


def _expected_gsm7_basic() -> set[str]:
    """The default alphabet rebuilt from the GSM0338.TXT code points, position by position."""
    by_position = {
        0x00: 0x0040, 0x01: 0x00A3, 0x02: 0x0024, 0x03: 0x00A5, 0x04: 0x00E8, 0x05: 0x00E9,
        0x06: 0x00F9, 0x07: 0x00EC, 0x08: 0x00F2, 0x09: 0x00C7, 0x0A: 0x000A, 0x0B: 0x00D8,
        0x0C: 0x00F8, 0x0D: 0x000D, 0x0E: 0x00C5, 0x0F: 0x00E5, 0x10: 0x0394, 0x11: 0x005F,
        0x12: 0x03A6, 0x13: 0x0393, 0x14: 0x039B, 0x15: 0x03A9, 0x16: 0x03A0, 0x17: 0x03A8,
        0x18: 0x03A3, 0x19: 0x0398, 0x1A: 0x039E, 0x1C: 0x00C6, 0x1D: 0x00E6, 0x1E: 0x00DF,
        0x1F: 0x00C9, 0x24: 0x00A4, 0x40: 0x00A1, 0x5B: 0x00C4, 0x5C: 0x00D6, 0x5D: 0x00D1,
        0x5E: 0x00DC, 0x5F: 0x00A7, 0x60: 0x00BF, 0x7B: 0x00E4, 0x7C: 0x00F6, 0x7D: 0x00F1,
        0x7E: 0x00FC, 0x7F: 0x00E0,
    }  # fmt: skip
    for position in range(0x20, 0x80):
        by_position.setdefault(position, position)
    return {chr(code) for code in by_position.values()}


def test_gsm7_basic_table_matches_the_standard() -> None:
    assert len(GSM7_BASIC) == 127
    assert set(GSM7_BASIC) == _expected_gsm7_basic()


def test_gsm7_extension_table_matches_the_standard() -> None:
    assert set(GSM7_EXTENSION) == set("\f^{}\\[~]|€")
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize("ch", ["`", "ç", "á", "í", "ó", "ú", "’", "“", "\t", "\x1b", "\u00a0"])
def test_characters_outside_the_alphabet_force_ucs2(ch: str) -> None:
    assert encoding_for("hello " + ch) == "ucs2"


def test_plain_english_is_gsm7() -> None:
    text = "Reply YES to agree, NO to decline. Questions? Call +44 20 7946 0000 (£0.10/min) @ 9-5."
    assert encoding_for(text) == "gsm7"
    assert septet_length(text) == len(text)


@pytest.mark.parametrize(
    ("length", "segments"), [(0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)]
)
def test_gsm7_segment_counts(length: int, segments: int) -> None:
    assert segment_count("a" * length) == segments


def test_extension_characters_cost_two_septets() -> None:
    assert septet_length("€") == 2
    assert septet_length("{[|]}~^\\\f") == 18
    assert segment_count("€" * 80) == 1
    assert segment_count("€" * 80 + "a") == 2
    assert segment_count("a" * 159 + "€") == 2


def test_septet_length_refuses_non_gsm_text() -> None:
    with pytest.raises(ValueError, match="index 2"):
        septet_length("ab" + URDU)


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_ucs2_segment_counts(length: int, segments: int) -> None:
    text = URDU * length
    assert encoding_for(text) == "ucs2"
    assert ucs2_length(text) == length
    assert segment_count(text) == segments


def test_emoji_count_as_two_utf16_units() -> None:
    assert ucs2_length(EMOJI) == 2
    assert segment_count(EMOJI * 35) == 1
    assert segment_count(EMOJI * 36) == 2


def test_split_never_breaks_a_surrogate_pair() -> None:
    text = "a" + EMOJI * 40  # 81 units; a pair would straddle unit 67
    parts = split_segments(text)
    assert parts == ["a" + EMOJI * 33, EMOJI * 7]
    assert [ucs2_length(part) for part in parts] == [67, 14]


def test_split_never_breaks_an_escape_pair() -> None:
    text = "a" * 152 + "€" + "a" * 10
    parts = split_segments(text)
    assert parts == ["a" * 152, "€" + "a" * 10]


def test_a_pair_on_the_boundary_costs_an_extra_segment() -> None:
    # 306 septets would be two parts of 153, but the € cannot straddle them.
    text = "a" * 152 + "€" + "a" * 152
    assert septet_length(text) == 306
    assert segment_count(text) == 3
    assert len(split_segments(text)) == 3


def test_split_gsm7_into_153_septet_parts() -> None:
    assert split_segments("a" * 160) == ["a" * 160]
    assert split_segments("a" * 307) == ["a" * 153, "a" * 153, "a"]


def test_split_empty_text() -> None:
    assert split_segments("") == [""]
    assert segment_count("") == 1


# --- plan_messages -----------------------------------------------------------------


def test_plan_keeps_a_fitting_text_whole() -> None:
    text = "  Short reply.\n"
    assert plan_messages(text, 1) == [text]


def test_plan_prefers_a_paragraph_break() -> None:
    first = "First paragraph. It has two sentences."
    second = "Second paragraph, line one.\nLine two. " + "word " * 20
    text = first + "\n\n" + second.strip()
    assert segment_count(text) == 2
    assert plan_messages(text, 1) == [first, second.strip()]


def test_plan_prefers_a_line_break_over_a_sentence_end() -> None:
    line = "One. Two. Three."
    text = "\n".join([line] * 12)
    messages = plan_messages(text, 1)
    assert len(messages) > 1
    assert all(message == "\n".join([line] * (message.count("\n") + 1)) for message in messages)


def test_plan_prefers_a_sentence_end_over_a_space() -> None:
    sentence = "This sentence has seven words in it."
    text = " ".join([sentence] * 10)
    messages = plan_messages(text, 1)
    assert len(messages) > 1
    assert all(message.endswith("in it.") for message in messages)


def test_plan_breaks_at_a_space_when_there_is_no_sentence_end() -> None:
    text = " ".join(["consent"] * 60)
    messages = plan_messages(text, 1)
    assert all(set(message.split(" ")) == {"consent"} for message in messages)
    assert all(septet_length(message) <= GSM7_SINGLE for message in messages)


def test_plan_never_breaks_at_a_no_break_space() -> None:
    text = "a" * 64 + " 10\u00a0mgX bb"  # UCS-2 (the no-break space), 77 units
    assert plan_messages(text, 1) == ["a" * 64, "10\u00a0mgX bb"]


def test_plan_judges_each_message_by_its_own_encoding() -> None:
    text = "x" * 150 + " 10\u00a0mg " + "y" * 100
    assert plan_messages(text, 1) == ["x" * 150, "10\u00a0mg", "y" * 100]


def test_plan_hard_splits_only_a_word_longer_than_a_message() -> None:
    long_word = "z" * 400
    text = "see " + long_word + " end"
    messages = plan_messages(text, 1)
    assert messages == ["see", "z" * 160, "z" * 160, "z" * 80 + " end"]


def test_plan_does_not_cut_inside_a_combining_sequence() -> None:
    word = "é" * 100  # e + COMBINING ACUTE ACCENT, 200 code points
    messages = plan_messages(word, 1)
    assert all(not message.startswith("\u0301") for message in messages)
    assert "".join(messages) == word


def test_plan_chooses_the_encoding_per_message() -> None:
    english = "Reply YES to take part. " * 6
    urdu = ("آپ کی رضامندی ہمارے لیے اہم ہے۔ " * 3).strip()
    text = urdu + "\n\n" + english.strip()
    messages = plan_messages(text, 2)
    assert [encoding_for(message) for message in messages] == ["ucs2", "gsm7"]
    assert messages == [urdu, english.strip()]


def test_plan_respects_several_segments_per_message() -> None:
    text = ("All good. " * 100).strip()
    messages = plan_messages(text, 3)
    assert all(segment_count(message) <= 3 for message in messages)
    assert all(message.endswith("good.") for message in messages)
    assert septet_length(messages[0]) > 2 * GSM7_MULTI


def test_plan_refuses_zero_segments() -> None:
    with pytest.raises(ValueError, match="max_segments"):
        plan_messages("hi", 0)


def test_plan_of_blank_text_too_long_for_a_message() -> None:
    assert plan_messages(" " * 500, 1) == [""]


# --- properties -----------------------------------------------------------------------

_INTERESTING = st.sampled_from(
    [
        *"aZ09 .!?,\n€[]{}^~|\\\f@£ÇΔß",
        *(URDU, "ی", "ے", "۔", "؟", EMOJI, "👍", "🏽"),
        *("\u200d", "\u0301", "\u00a0"),
    ]
)
texts = st.text(alphabet=_INTERESTING | st.characters(), max_size=900)
wordy_texts = st.lists(
    st.text(alphabet=_INTERESTING, min_size=1, max_size=40)
    | st.sampled_from([" ", "\n", "\n\n", ". ", "۔ "]),
    max_size=80,
).map("".join)


def _fits_one_part(part: str, encoding: str, whole: bool) -> bool:
    if encoding == "gsm7":
        return septet_length(part) <= (GSM7_SINGLE if whole else GSM7_MULTI)
    return ucs2_length(part) <= (UCS2_SINGLE if whole else UCS2_MULTI)


@given(texts)
def test_split_parts_each_fit_one_segment(text: str) -> None:
    parts = split_segments(text)
    encoding = encoding_for(text)
    assert all(_fits_one_part(part, encoding, whole=len(parts) == 1) for part in parts)


@given(texts)
def test_split_parts_concatenate_to_the_text(text: str) -> None:
    assert "".join(split_segments(text)) == text


@given(texts)
def test_segment_count_is_the_number_of_parts(text: str) -> None:
    parts = split_segments(text)
    assert segment_count(text) == len(parts)
    assert all(part for part in parts) or parts == [""]
    if encoding_for(text) == "gsm7":
        length, single, multi = septet_length(text), GSM7_SINGLE, GSM7_MULTI
    else:
        length, single, multi = ucs2_length(text), UCS2_SINGLE, UCS2_MULTI
    at_least = 1 if length <= single else math.ceil(length / multi)
    assert segment_count(text) >= at_least


@given(texts)
def test_measured_gives_the_encoding_and_the_parts_of_one_message(text: str) -> None:
    """What the outbox stores for each message: counted once, as the parts are split."""
    assert measured(text) == (encoding_for(text), len(split_segments(text)))


@given(texts)
def test_gsm7_is_every_character_in_the_alphabet(text: str) -> None:
    assert is_gsm7(text) == all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


@given(st.one_of(texts, wordy_texts), st.integers(min_value=1, max_value=4))
def test_planned_measures_each_planned_message(text: str, max_segments: int) -> None:
    assert planned(text, max_segments) == [
        (message, *measured(message)) for message in plan_messages(text, max_segments)
    ]


def test_planned_refuses_zero_segments() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        planned("hello", 0)


def test_extension_characters_count_twice_however_many_there_are() -> None:
    filler = "a" * 158
    assert measured(filler + "€") == ("gsm7", 1)  # 160 septets: one SMS
    assert measured(filler + "€€") == ("gsm7", 2)  # 162
    assert measured(filler + "{}") == ("gsm7", 2)
    assert measured(filler[:-1] + "{") == ("gsm7", 1)  # 159


def _assert_rebuilds(text: str, messages: list[str]) -> None:
    """``text`` is the messages in order, with only whitespace between and around them."""
    position = 0
    for message in messages:
        if not text.startswith(message, position):
            while position < len(text) and text[position].isspace():
                position += 1
        assert text.startswith(message, position)
        position += len(message)
    assert not text[position:].strip()


@settings(max_examples=300)
@given(st.one_of(texts, wordy_texts), st.integers(min_value=1, max_value=4))
def test_plan_messages_fit_and_preserve_the_text(text: str, max_segments: int) -> None:
    messages = plan_messages(text, max_segments)
    assert messages
    assert all(segment_count(message) <= max_segments for message in messages)
    assert "".join("".join(m.split()) for m in messages) == "".join(text.split())
    _assert_rebuilds(text, messages)
    if len(messages) > 1:
        assert all(message.strip() for message in messages)
