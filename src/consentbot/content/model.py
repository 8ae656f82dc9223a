"""What a study says, in each of its languages, once loaded and checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from consentbot.domain.cooling_off import CoolingOff
from consentbot.domain.quiet_hours import QuietHours


@dataclass(frozen=True, slots=True)
class Purpose:
    """One use of a participant's data that they say yes or no to."""

    id: str
    required: bool


@dataclass(frozen=True, slots=True)
class Contact:
    """Who a participant can reach at the study team."""

    phone: str
    email: str


@dataclass(frozen=True, slots=True)
class Topic:
    """Layers 2 and 3: a titled summary, and its detail on request."""

    id: str
    title: str
    summary: str
    detail: str


@dataclass(frozen=True, slots=True)
class PurposeText:
    """How one purpose is named, asked about and explained in one language."""

    title: str
    question: str
    explanation: str


@dataclass(frozen=True, slots=True)
class StudyText:
    """Everything a participant reads about a study, in one language."""

    language: str
    status: str
    translated_from_version: int
    title: str
    summary: str
    topics: tuple[Topic, ...]
    purposes: Mapping[str, PurposeText]
    digest: str
    """SHA-256 of study.yaml and this language's file: the exact text a person saw."""


@dataclass(frozen=True, slots=True)
class Study:
    """A study's settings and its texts in every language it offers."""

    id: str
    version: int
    keyword: str
    default_language: str
    languages: tuple[str, ...]
    timezone: ZoneInfo
    cooling_off: CoolingOff
    quiet_hours: QuietHours | None
    remind_later: timedelta
    contact: Contact
    purposes: tuple[Purpose, ...]
    texts: Mapping[str, StudyText]
    warnings: tuple[str, ...] = field(default=())

    def text(self, language: str) -> StudyText:
        """The text in ``language``, or in the study's default language."""
        return self.texts.get(language) or self.texts[self.default_language]

    def language_or_default(self, language: str | None) -> str:
        """``language`` if the study offers it, else its default language."""
        if language is not None and language in self.texts:
            return language
        return self.default_language

    @property
    def purpose_ids(self) -> tuple[str, ...]:
        """Purpose ids with required purposes first: the order questions are asked in."""
        return tuple(p.id for p in sorted(self.purposes, key=lambda p: not p.required))

    def is_required(self, purpose_id: str) -> bool:
        """True for a purpose a participant must agree to in order to take part."""
        return any(p.id == purpose_id and p.required for p in self.purposes)


@dataclass(frozen=True)
class StudyCatalogue:
    """Every study the service knows, by id and by SMS keyword."""

    studies: Mapping[str, Study]

    def get(self, study_id: str) -> Study | None:
        """The study with this id, if any."""
        return self.studies.get(study_id)

    def by_keyword(self, keyword: str) -> Study | None:
        """The study whose SMS keyword is ``keyword`` (already normalised to upper case)."""
        for study in self.studies.values():
            if study.keyword == keyword:
                return study
        return None
