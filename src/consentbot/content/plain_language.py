"""Plain-language warnings for every layer a participant reads, in every language.

Checked: the summary (layer 1), each topic's summary and detail (layers 2 and 3), each
purpose's question and explanation, and what a new version changed. Each text is scored
with its language's measure (see readability.py) against the study's ``reading`` limits,
and each sentence longer than ``reading.sentence_words`` is flagged on its own line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from consentbot.content.lines import YamlLines
from consentbot.content.model import ReadingLimits, Study, StudyText
from consentbot.content.problems import ContentProblem, Severity
from consentbot.content.readability import Measure, long_sentences, reading_level

QUOTE_WORDS = 8
"""Words of a long sentence quoted in its warning, so the author can find it."""


def participant_texts(text: StudyText) -> Iterator[tuple[str, str]]:
    """(field, text) of every layer a participant reads, in the order of the file."""
    yield "summary", text.summary
    for index, topic in enumerate(text.topics):
        yield f"topics[{index}].summary", topic.summary
        yield f"topics[{index}].detail", topic.detail
    for purpose_id, purpose in text.purposes.items():
        yield f"purposes.{purpose_id}.question", purpose.question
        yield f"purposes.{purpose_id}.explanation", purpose.explanation
    if text.changes:
        yield "changes", text.changes


def plain_language_warnings(
    study: Study, folder: Path, lines: Callable[[Path], YamlLines] = YamlLines.read
) -> list[ContentProblem]:
    """Reading-level and long-sentence warnings for every language file of ``study``."""
    warnings: list[ContentProblem] = []
    for language in study.languages:
        path = folder / f"{language}.yaml"
        warnings.extend(text_warnings(path, study.texts[language], study.reading, lines(path)))
    return warnings


def text_warnings(
    path: Path, text: StudyText, limits: ReadingLimits, lines: YamlLines
) -> list[ContentProblem]:
    """Warnings for one language file: each text's level, then each long sentence."""
    warnings: list[ContentProblem] = []
    for field, value in participant_texts(text):
        level = reading_level(value, text.language, limits)
        if level.too_hard:
            advice = (
                "use shorter sentences and words of fewer syllables"
                if level.measure is Measure.FLESCH_KINCAID
                else "use shorter sentences and shorter words"
            )
            warnings.append(
                ContentProblem(
                    path,
                    field,
                    f"reads at {level.measure} {level.score:.1f} (at most {level.limit:g}): {advice}",
                    Severity.WARNING,
                    lines.line(field),
                )
            )
        for sentence in long_sentences(value, limits.sentence_words):
            quoted = " ".join(sentence.text.split()[:QUOTE_WORDS])
            warnings.append(
                ContentProblem(
                    path,
                    field,
                    f"a sentence of {sentence.words} words (at most {limits.sentence_words}): "
                    f'"{quoted} ..."; split it',
                    Severity.WARNING,
                    lines.text_line(field, sentence.start, value),
                )
            )
    return warnings
