"""A study's text as a person reads it: filled once per text and language, never mixed up."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from consentbot.content.model import StudyCatalogue
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.shown import with_keywords
from consentbot.conversation.vocabulary import Command
from tests.support.journey import STUDY

LONDON = ZoneInfo("Europe/London")


def test_each_language_reads_its_own_keywords_and_a_repeat_is_the_same_text(
    lexicon: Lexicon, studies: StudyCatalogue
) -> None:
    study = studies.get(STUDY)
    assert study is not None
    english, welsh = study.text("en"), study.text("cy")
    first = lexicon.say("en", LONDON).shown(english)
    again = lexicon.say("en", LONDON).shown(english)
    assert again is first, "filled once per text and language"
    assert first == with_keywords(english, {c.value: lexicon.vocabulary("en").word(c) for c in Command})
    assert "{confirm}" not in first.topics[-1].detail + "".join(t.detail for t in first.topics)

    # The same English text read with Welsh keywords (a language without its own text yet)
    # is filled again, not taken from the English entry.
    mixed = lexicon.say("cy", LONDON).shown(english)
    assert mixed is not first
    assert mixed != first, "CADARNHAU, not CONFIRM"
    assert mixed == with_keywords(english, {c.value: lexicon.vocabulary("cy").word(c) for c in Command})
    assert lexicon.say("cy", LONDON).shown(welsh) is not mixed
