"""What a study says, in each of its languages, once loaded and checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from consentbot.content.coverage import Coverage
from consentbot.content.files import StudyFiles
from consentbot.content.problems import ContentProblem
from consentbot.domain.callbacks import CallbackHours
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
    covers: frozenset[Coverage] = frozenset()
    """What of a participant information sheet this topic covers (see coverage.py)."""


@dataclass(frozen=True, slots=True)
class PurposeText:
    """How one purpose is named, asked about and explained in one language."""

    title: str
    question: str
    explanation: str


class Reconsent(StrEnum):
    """What publishing a changed version does for the purposes it names."""

    REQUIRED = "required"
    """Ask again: active and pending consents for those purposes become reconsent_required."""
    NOTIFY = "notify"
    """Tell people what changed; no status changes."""


@dataclass(frozen=True, slots=True)
class StudyChanges:
    """What a version changed materially (study.yaml ``changes``)."""

    purposes: tuple[str, ...]
    reconsent: Reconsent


@dataclass(frozen=True, slots=True)
class ReadingLimits:
    """Plain-language thresholds (study.yaml ``reading``): the checker warns above them."""

    grade: float = 6.0
    """Flesch-Kincaid grade, where textstat supports the language (6 is a reading age of about 11)."""
    lix: float = 40.0
    """LIX readability index, for every other language."""
    sentence_words: int = 20
    """Sentences longer than this are flagged."""


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
    changes: str | None = None
    """What changed in this version and why, in plain words (when study.yaml has ``changes``)."""
    untranslated: frozenset[str] = frozenset()
    """Fields this language's file lacks, shown from the default language instead
    (see :meth:`Study.text`); only ever ``"changes"`` today, the one optional field."""


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
    warnings: tuple[ContentProblem, ...] = field(default=())
    """Problems of severity warning found while loading (short cooling-off, translations)."""
    reading: ReadingLimits = ReadingLimits()
    changes: StudyChanges | None = None
    """What this version changed materially, if anything."""
    callback_hours: CallbackHours | None = None
    """When the team phones people back (study.yaml ``callback_hours``); None: no call-backs."""
    files: StudyFiles | None = field(default=None, compare=False, repr=False)
    """The files it was loaded from (what publishing stores)."""

    def text(self, language: str) -> StudyText:
        """The text a person who reads ``language`` is shown.

        A language the study does not offer, or whose file is stale (translated from an
        older version), gets the whole default-language text: a version is raised because
        participants must see something new, and nothing says which part of an old
        translation is still true. A current file that lacks an optional field
        (``changes``) gets that field from the default language, named in
        ``untranslated``. Either way the replies say, in the person's own language, that
        the part is not translated yet (see conversation/messages.py).
        """
        default = self.texts[self.default_language]
        own = self.texts.get(language)
        if own is None or own.translated_from_version < self.version:
            return default
        if own.changes is None and default.changes is not None:
            return replace(own, changes=default.changes, untranslated=frozenset({"changes"}))
        return own

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
