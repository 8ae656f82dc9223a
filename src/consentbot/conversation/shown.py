"""Study content as a participant is shown it: keyword placeholders filled in their language.

Authors write a keyword as a placeholder ("reply {confirm} within 14 days"), never as the
word itself, so every language names the word that works in it: the same word the bot's
own sentences name (the first of the catalog's words). Only the names of
:class:`~consentbot.conversation.vocabulary.Command` are filled; other braces stay as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from consentbot.content.model import PurposeText, StudyText

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill_keywords(value: str, words: Mapping[str, str]) -> str:
    """``value`` with each ``{command}`` placeholder replaced by its word in ``words``."""
    if "{" not in value:
        return value
    return _PLACEHOLDER.sub(lambda match: words.get(match.group(1), match.group(0)), value)


def with_keywords(text: StudyText, words: Mapping[str, str]) -> StudyText:
    """``text`` with keyword placeholders filled in every field a participant reads."""

    def fill(value: str) -> str:
        return fill_keywords(value, words)

    topics = tuple(
        replace(
            topic, title=fill(topic.title), summary=fill(topic.summary), detail=fill(topic.detail)
        )
        for topic in text.topics
    )
    purposes = {
        purpose_id: PurposeText(fill(p.title), fill(p.question), fill(p.explanation))
        for purpose_id, p in text.purposes.items()
    }
    return replace(
        text,
        title=fill(text.title),
        summary=fill(text.summary),
        topics=topics,
        purposes=purposes,
        changes=fill(text.changes) if text.changes is not None else None,
    )
