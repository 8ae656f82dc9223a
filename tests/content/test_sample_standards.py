"""The sample study meets the participant-information standards it asks of others.

These are the content checker's rules applied to the shipped sample: reading level per
language and layer, what a participant must be told, and the SMS cost of the messages as
really sent. (When `consentbot content check` lands, this should call it instead.)
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
import textstat

from consentbot.content.coverage import Coverage
from consentbot.content.model import Study
from consentbot.conversation.engine import invite
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.state import ConversationState
from consentbot.domain.sms_segments import encoding_for, segment_count
from tests.conversation.conftest import Conversation, shared_lexicon, shared_studies
from tests.support.journey import STUDY

SENTENCE_END = re.compile(r"(?<=[.!?؟۔])\s+|\n+")
WORD = re.compile(r"\w+(?:['’]\w+)*")
LINK = "https://consent.example.org/i/" + "x" * len(secrets.token_urlsafe(24))
"""A personal link as services/pipeline.py makes it: the public URL, /i/, a 24-byte token."""

INVITATION_SEGMENTS = {"gsm7": 3, "ucs2": 6}
TOPIC_SUMMARY_SEGMENTS = {"gsm7": 2, "ucs2": 4}
"""Two segments' worth: a UCS-2 segment holds less than half a GSM-7 one (67 units against
153 septets), so the budget doubles, as the issue's invitation budget does (3 and 6)."""


def sentences(text: str) -> list[str]:
    """Sentences, with each line of a list counted as one."""
    return [part for part in SENTENCE_END.split(text) if part.strip()]


def lix(text: str) -> float:
    """LIX: words per sentence plus the percentage of words longer than 6 letters."""
    words = WORD.findall(text)
    return len(words) / len(sentences(text)) + 100 * sum(len(w) > 6 for w in words) / len(words)


def layers(study: Study, language: str) -> Iterator[tuple[str, str]]:
    """Every layer a participant reads: summary, topic summaries and details, questions,
    explanations; named as in the language file."""
    text = study.texts[language]
    yield "summary", text.summary
    for index, topic in enumerate(text.topics):
        yield f"topics[{index}].summary", topic.summary
        yield f"topics[{index}].detail", topic.detail
    for purpose_id, purpose in text.purposes.items():
        yield f"purposes.{purpose_id}.question", purpose.question
        yield f"purposes.{purpose_id}.explanation", purpose.explanation


@pytest.fixture(scope="module")
def study() -> Study:
    found = shared_studies().get(STUDY)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return shared_lexicon()


@pytest.mark.parametrize("language", ["en", "cy", "pl", "ur"])
def test_every_layer_reads_plainly(study: Study, language: str) -> None:
    limits = study.reading
    too_hard = []
    for field, value in layers(study, language):
        if language == "en":
            score = textstat.flesch_kincaid_grade(value)
            if score > limits.grade:
                too_hard.append(f"{field}: Flesch-Kincaid grade {score} > {limits.grade}")
        elif (score := lix(value)) > limits.lix:
            too_hard.append(f"{field}: LIX {score:.1f} > {limits.lix}")
        too_hard.extend(
            f"{field}: {len(WORD.findall(sentence))} words: {sentence}"
            for sentence in sentences(value)
            if len(WORD.findall(sentence)) > limits.sentence_words
        )
    assert too_hard == []


def test_the_topics_cover_everything_a_participant_must_be_told(study: Study) -> None:
    covered = {
        item for topic in study.texts[study.default_language].topics for item in topic.covers
    }
    assert set(Coverage) - covered == set()


@pytest.mark.parametrize("language", ["cy", "pl", "ur"])
def test_translations_declare_the_same_coverage(study: Study, language: str) -> None:
    default = [topic.covers for topic in study.texts[study.default_language].topics]
    assert [topic.covers for topic in study.texts[language].topics] == default


@pytest.mark.parametrize("language", ["en", "cy", "pl", "ur"])
def test_the_invitation_with_its_link_fits_its_budget(
    study: Study, lexicon: Lexicon, language: str
) -> None:
    context = Conversation(study, lexicon, language=language).context()
    turn = invite(context, ConversationState(), LINK)
    (reply,) = turn.replies
    encoding = encoding_for(reply.text)
    assert segment_count(reply.text) <= INVITATION_SEGMENTS[encoding], reply.text
    assert LINK in reply.text


def test_the_english_invitation_goes_in_gsm7_and_offers_every_first_answer(
    study: Study, lexicon: Lexicon
) -> None:
    (reply,) = invite(Conversation(study, lexicon).context(), ConversationState(), LINK).replies
    assert encoding_for(reply.text) == "gsm7"
    for word in ("MORE", "YES", "NO", "STOP"):
        assert re.search(rf"\b{word}\b", reply.text), word


@pytest.mark.parametrize("language", ["en", "cy", "pl", "ur"])
def test_each_topic_summary_as_sent_fits_two_segments(
    study: Study, lexicon: Lexicon, language: str
) -> None:
    conversation = Conversation(study, lexicon, language=language)
    over = []
    for number, topic in enumerate(study.texts[language].topics, start=1):
        sent = conversation.send(str(number))
        assert topic.title in sent
        budget = TOPIC_SUMMARY_SEGMENTS[encoding_for(sent)]
        if segment_count(sent) > budget:
            over.append(f"{topic.id}: {segment_count(sent)} segments > {budget}")
    assert over == []


def test_the_choices_topic_names_confirm_and_its_deadline(study: Study, lexicon: Lexicon) -> None:
    conversation = Conversation(study, lexicon)
    number = next(i for i, t in enumerate(study.texts["en"].topics, 1) if t.id == "your-choices")
    summary = conversation.send(str(number))
    assert "CONFIRM" in summary
    assert f"{study.cooling_off.confirm_within.days} days" in summary
    for language, word in (("cy", "CADARNHAU"), ("pl", "POTWIERDZAM"), ("ur", "تصدیق")):
        assert word in Conversation(study, lexicon, language=language).send(str(number))
