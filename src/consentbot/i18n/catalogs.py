"""Load ``locales/<lang>/LC_MESSAGES/messages.po`` and compile them in memory at start.

Compiling at start means a checkout works without a build step and a stale ``.mo``
file can never disagree with the ``.po`` source that reviewers read.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from consentbot.i18n.translator import Translator

DOMAIN = "messages"
SOURCE_LANGUAGE = "en"


class CatalogError(Exception):
    """A catalog file could not be read."""


def po_path(locales_dir: Path, language: str) -> Path:
    """Where the catalog source of ``language`` lives."""
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalog(path: Path) -> Translations:
    """Parse a ``.po`` file and compile it in memory; fuzzy entries are left out."""
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=path.parent.parent.name)
    except (OSError, ValueError) as error:
        raise CatalogError(f"{path}: cannot read catalog: {error}") from error
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


class Catalogs:
    """Translators for every language with a catalog, plus English (the source)."""

    def __init__(self, translators: dict[str, Translator]) -> None:
        self._translators = translators

    @classmethod
    def load(
        cls, locales_dir: Path, languages: Iterable[str] | None = None, region: str = "GB"
    ) -> Catalogs:
        """Load the catalogs of ``languages`` (default: every folder under ``locales_dir``).

        ``region`` picks date and time formats (see :class:`Translator`)."""
        wanted = (
            set(languages)
            if languages is not None
            else {entry.name for entry in locales_dir.iterdir() if entry.is_dir()}
            if locales_dir.is_dir()
            else set()
        )
        translators = {
            SOURCE_LANGUAGE: Translator(SOURCE_LANGUAGE, gettext.NullTranslations(), region)
        }
        for language in sorted(wanted - {SOURCE_LANGUAGE}):
            path = po_path(locales_dir, language)
            if path.is_file():
                translators[language] = Translator(language, compile_catalog(path), region)
        return cls(translators)

    def languages(self) -> frozenset[str]:
        """Languages with a catalog."""
        return frozenset(self._translators)

    def get(self, language: str) -> Translator:
        """The translator for ``language``; English when there is no catalog for it."""
        return self._translators.get(language) or self._translators[SOURCE_LANGUAGE]
