"""A data pipeline's question: which of these participants may I use for this purpose today?

Documented in docs/data-pipelines.md. Read-only: one read transaction, one query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from consentbot.content.live import LiveCatalogue
from consentbot.domain.permitted import permits
from consentbot.services.clock import Clock
from consentbot.services.errors import InvalidInput, UnknownStudy
from consentbot.store.consent_check import ConsentCheckRepository
from consentbot.store.database import Database

MAX_REFERENCES = 100_000
"""References in one check; a bigger cohort is checked in several calls."""


@dataclass(frozen=True, slots=True)
class ConsentCheck:
    """Every distinct reference asked about, in exactly one list, in the order first asked."""

    purpose: str
    as_of: datetime
    """When the answer was read: it holds until the next consent change."""
    permitted: list[str]
    """Participants whose consent for the purpose is ``active``: the only permission."""
    not_permitted: list[str]
    """Participants of the study with any other status (erased ones included)."""
    unknown: list[str]
    """References that are no participant of this study."""


class ConsentChecker:
    """Answers consent checks for research systems."""

    def __init__(self, db: Database, studies: LiveCatalogue, clock: Clock) -> None:
        self.db = db
        self.studies = studies
        self.clock = clock

    async def check(self, study_id: str, purpose: str, references: Sequence[str]) -> ConsentCheck:
        """Sort ``references`` (duplicates answered once) by their consent to ``purpose``.

        Raises UnknownStudy, or InvalidInput for a purpose the study does not have or
        more than MAX_REFERENCES references.
        """
        study = self.studies.get(study_id)
        if study is None:
            raise UnknownStudy(f"there is no study {study_id!r}")
        if purpose not in {p.id for p in study.purposes}:
            known = ", ".join(p.id for p in study.purposes)
            raise InvalidInput(
                f"{purpose!r} is not a purpose of this study (it has {known})", field="purpose"
            )
        if len(references) > MAX_REFERENCES:
            raise InvalidInput(
                f"at most {MAX_REFERENCES:,} in one check, not {len(references):,}: "
                "check the rest in another call",
                field="participants",
            )
        wanted = list(dict.fromkeys(references))
        async with self.db.read() as session:
            as_of = self.clock()
            found = await ConsentCheckRepository(session).permitted(study_id, storable(wanted))
        return sort_by_consent(purpose, as_of, wanted, found)


def storable(references: list[str]) -> list[str]:
    """Those of ``references`` a participant could have: the others are simply unknown.

    A NUL character or half of a surrogate pair (JSON can carry both) can be in no stored
    reference, and PostgreSQL refuses them in a query: the whole check would fail.
    """
    if _storable("".join(references)):  # the usual case, tested in one pass
        return references
    return [reference for reference in references if _storable(reference)]


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def sort_by_consent(
    purpose: str, as_of: datetime, wanted: Sequence[str], found: Iterable[tuple[str, str]]
) -> ConsentCheck:
    """Put each of ``wanted`` in the list that ``found`` says: (reference, the purposes it
    permits, as domain/permitted.py stores them) for each participant among them."""
    permitted_by = dict(found)
    permitted: list[str] = []
    not_permitted: list[str] = []
    unknown: list[str] = []
    for reference in wanted:
        stored = permitted_by.get(reference)
        if stored is None:
            unknown.append(reference)
        elif permits(stored, purpose):
            permitted.append(reference)
        else:
            not_permitted.append(reference)
    return ConsentCheck(purpose, as_of, permitted, not_permitted, unknown)
