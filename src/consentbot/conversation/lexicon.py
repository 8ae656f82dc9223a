"""Per-language vocabularies and language names, built once at start and shared."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale

from consentbot.content.live import Studies
from consentbot.content.model import Study
from consentbot.conversation.intents import Intent, parse
from consentbot.conversation.messages import Say
from consentbot.conversation.normalise import normalise
from consentbot.conversation.vocabulary import Vocabulary
from consentbot.i18n.catalogs import Catalogs
from consentbot.i18n.translator import Translator


class Lexicon:
    """Everything the engine needs to read words, for every study and language.

    It follows ``studies``: when the live catalogue is swapped for a newly published
    version, keywords and language names come from the new one at the next message.
    """

    def __init__(self, catalogs: Catalogs, studies: Studies) -> None:
        self.catalogs = catalogs
        self.studies = studies
        self._keywords_of: tuple[Mapping[str, Study], Mapping[str, str]] | None = None
        self._vocabulary = cache(lambda language: Vocabulary.build(catalogs.get(language)))
        self._names = cache(self._language_names)
        self._merged = cache(self._merge)

    @property
    def study_keywords(self) -> Mapping[str, str]:
        """Normalised keyword -> keyword of every study served now."""
        served = self.studies.studies
        if self._keywords_of is None or self._keywords_of[0] is not served:
            keywords = {normalise(study.keyword): study.keyword for study in served.values()}
            self._keywords_of = (served, keywords)
        return self._keywords_of[1]

    def read(self, text: str, languages: Iterable[str], study_ids: Iterable[str]) -> Intent:
        """Read a message once, in every language the person uses.

        The words of each of ``languages`` count (plus English), and the names of the
        languages of ``study_ids``; the catalogs keep keywords unambiguous across languages
        (tests/i18n), so reading in several at once cannot change a word's meaning.
        """
        vocabulary = self._merged(frozenset(languages))
        names = self._merge_names(frozenset(study_ids))
        return parse(text, vocabulary, self.study_keywords, names)

    def translator(self, language: str) -> Translator:
        """The catalog of ``language`` (English when there is none)."""
        return self.catalogs.get(language)

    def say(self, language: str, zone: ZoneInfo) -> Say:
        """The replies in ``language``, with dates in ``zone``."""
        return Say(self.translator(language), self.vocabulary(language), zone)

    def vocabulary(self, language: str) -> Vocabulary:
        """Keywords in ``language`` plus English."""
        result: Vocabulary = self._vocabulary(language)
        return result

    def language_names(self, study: Study) -> Mapping[str, str]:
        """Normalised own name, English name and code of each of ``study``'s languages."""
        result: Mapping[str, str] = self._names(study.languages)
        return result

    def _merge(self, languages: frozenset[str]) -> Vocabulary:
        parts = [self.vocabulary(language) for language in sorted(languages or {"en"})]
        commands = {word: command for part in parts for word, command in part.commands.items()}
        return Vocabulary("+".join(sorted(languages)), commands, parts[0].display)

    def _merge_names(self, study_ids: frozenset[str]) -> Mapping[str, str]:
        names: dict[str, str] = {}
        for study_id in sorted(study_ids):
            study = self.studies.get(study_id)
            if study is not None:
                names.update(self.language_names(study))
        return names

    def _language_names(self, languages: tuple[str, ...]) -> Mapping[str, str]:
        names: dict[str, str] = {}
        for code in languages:
            locale = Locale.parse(code)
            for name in (code, locale.get_display_name(code), locale.english_name):
                if name:
                    names[normalise(name)] = code
        return names
