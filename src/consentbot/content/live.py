"""The studies being served now, swapped whole when a new version is published.

Services look studies up here on every turn, so a running service moves to a newly
published version without a restart; a turn that already holds a Study keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from consentbot.content.model import Study, StudyCatalogue


class Studies(Protocol):
    """What reads studies: a fixed :class:`StudyCatalogue` or the :class:`LiveCatalogue`."""

    @property
    def studies(self) -> Mapping[str, Study]:
        """Every study, by id."""
        ...

    def get(self, study_id: str) -> Study | None:
        """The study with this id, if any."""
        ...

    def by_keyword(self, keyword: str) -> Study | None:
        """The study whose SMS keyword is ``keyword`` (upper case)."""
        ...


class LiveCatalogue:
    """One catalogue at a time; :meth:`swap` replaces it for every later lookup."""

    def __init__(self, catalogue: StudyCatalogue) -> None:
        self._current = catalogue

    @property
    def studies(self) -> Mapping[str, Study]:
        """Every study served now, by id."""
        return self._current.studies

    def get(self, study_id: str) -> Study | None:
        """The study with this id, as served now."""
        return self._current.get(study_id)

    def by_keyword(self, keyword: str) -> Study | None:
        """The study whose SMS keyword is ``keyword``, as served now."""
        return self._current.by_keyword(keyword)

    async def swap(self, catalogue: StudyCatalogue) -> None:
        """Serve ``catalogue`` from now on."""
        self._current = catalogue
