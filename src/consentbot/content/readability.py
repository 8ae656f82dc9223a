"""Plain-language measures of one text: sentences, LIX, Flesch-Kincaid grade.

Formulas advise, people decide: a high score is a warning for the research team,
never a reason to refuse content.

Which formula for which language:

- English: Flesch-Kincaid grade, ``0.39 * words/sentences + 11.8 * syllables/words - 15.59``,
  with syllables from textstat 0.7.8 (the CMU pronouncing dictionary, then Pyphen). The
  formula was fitted to English readers, so it is used for English only.
- Every other language (Welsh, Polish, Urdu, ...): LIX, ``words/sentences + 100 *
  long words/words``, a long word having more than 6 letters. It counts letters, not
  syllables, so it needs no dictionary and works in any script.

Sentences and words are counted here for both formulas, so a list item counts as a
sentence everywhere (textstat's own sentence count would run a list into one sentence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import textstat

from consentbot.content.lines import WORD
from consentbot.content.model import ReadingLimits

LONG_WORD_LETTERS = 6
"""A word with more letters than this is long, for LIX."""

_LIST_ITEM = re.compile(r"[ \t]*(?:[-*•]|\d{1,3}[.)])[ \t]+")
# Latin and Arabic-script sentence ends (Urdu ends a sentence with ۔ and asks with ؟),
# with any closing quote or bracket, then whitespace or the end of the text.
_SENTENCE_END = re.compile(r"[.!?…؟۔]+[\"'”’»)\]]*(?=\s|$)")


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence (or list item) of a text, where it starts, and how many words it has."""

    text: str
    start: int
    """Offset of its first character in the text it was split from."""
    words: int


def words(text: str) -> list[str]:
    """The words of ``text``: runs of letters, digits and combining marks."""
    return WORD.findall(text)


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences, each list item ("- item", "1. item") being one.

    Paragraphs (blank lines) and list items are split first, then each at its sentence
    ends. Pieces without a word (a stray dash) are left out.
    """
    sentences: list[Sentence] = []
    for start, end in _blocks(text):
        piece_start = start
        for match in _SENTENCE_END.finditer(text, start, end):
            _add(sentences, text, piece_start, match.end())
            piece_start = match.end()
        _add(sentences, text, piece_start, end)
    return sentences


def _add(sentences: list[Sentence], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    count = len(words(stripped))
    if count:
        offset = start + (len(piece) - len(piece.lstrip()))
        sentences.append(Sentence(" ".join(stripped.split()), offset, count))


def _blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph and list item; list markers are left outside."""
    blocks: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    in_item = False
    offset = 0
    for line in text.splitlines(keepends=True):
        line_start, line_end = offset, offset + len(line.rstrip("\r\n"))
        offset += len(line)
        marker = _LIST_ITEM.match(line)
        if not line.strip():
            _close(blocks, current)
            current, in_item = None, False
        elif marker:
            _close(blocks, current)
            current, in_item = (line_start + marker.end(), line_end), True
        elif current is not None and (not in_item or line[:1] in " \t"):
            current = (current[0], line_end)  # the paragraph, or a wrapped list item, goes on
        else:
            _close(blocks, current)
            current, in_item = (line_start, line_end), False
    _close(blocks, current)
    return blocks


def _close(blocks: list[tuple[int, int]], block: tuple[int, int] | None) -> None:
    if block is not None:
        blocks.append(block)


def lix(text: str) -> float:
    """LIX: words per sentence plus the percentage of words longer than 6 letters (0 if empty)."""
    counted = split_sentences(text)
    all_words = [word for sentence in counted for word in words(sentence.text)]
    if not all_words:
        return 0.0
    long_words = sum(1 for word in all_words if _letters(word) > LONG_WORD_LETTERS)
    return len(all_words) / len(counted) + 100 * long_words / len(all_words)


def _letters(word: str) -> int:
    return sum(1 for ch in word if ch.isalpha())


def flesch_kincaid_grade(text: str) -> float:
    """Flesch-Kincaid grade of English ``text`` (0 if empty); syllables from textstat."""
    counted = split_sentences(text)
    all_words = [word for sentence in counted for word in words(sentence.text)]
    if not all_words:
        return 0.0
    syllables: int = textstat.syllable_count(" ".join(all_words))
    return 0.39 * len(all_words) / len(counted) + 11.8 * syllables / len(all_words) - 15.59


class Measure(StrEnum):
    """The readability formula used for a language."""

    FLESCH_KINCAID = "Flesch-Kincaid grade"
    LIX = "LIX"


def measure_for(language: str) -> Measure:
    """Flesch-Kincaid for English (any region), LIX for every other language."""
    return Measure.FLESCH_KINCAID if re.split(r"[-_]", language)[0] == "en" else Measure.LIX


@dataclass(frozen=True, slots=True)
class ReadingLevel:
    """A text's score under its language's measure, and the study's limit for it."""

    measure: Measure
    score: float
    limit: float

    @property
    def too_hard(self) -> bool:
        """Whether the score is above the limit."""
        return self.score > self.limit


def reading_level(text: str, language: str, limits: ReadingLimits) -> ReadingLevel:
    """Score ``text`` in ``language`` against ``limits``."""
    if measure_for(language) is Measure.FLESCH_KINCAID:
        return ReadingLevel(Measure.FLESCH_KINCAID, flesch_kincaid_grade(text), limits.grade)
    return ReadingLevel(Measure.LIX, lix(text), limits.lix)


def long_sentences(text: str, limit: int) -> list[Sentence]:
    """Sentences of ``text`` with more than ``limit`` words."""
    return [sentence for sentence in split_sentences(text) if sentence.words > limit]
