"""Published study versions for the research API: which exist, and their exact files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from consentbot.content.files import STUDY_FILE
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import ServiceError, UnknownStudy
from consentbot.store.published import (
    PublishedVersionRepository,
    StoredVersion,
    TamperedVersion,
)


class UnknownVersion(ServiceError):
    """The study has no published version with that number."""


class DamagedVersion(ServiceError):
    """A stored version no longer matches its hash: nothing of it may be shown as what
    people saw."""


@asynccontextmanager
async def _verified_reads(deps: ServiceDeps) -> AsyncIterator[PublishedVersionRepository]:
    try:
        async with deps.db.read() as session:
            yield PublishedVersionRepository(session)
    except TamperedVersion as error:
        raise DamagedVersion(str(error), field="version") from error


@dataclass(frozen=True, slots=True)
class VersionSummary:
    """One published version, without its files."""

    version: int
    content_hash: str
    published_by: str
    published_at: datetime


@dataclass(frozen=True, slots=True)
class VersionFiles:
    """One published version with its files as text: study.yaml and each language's file."""

    summary: VersionSummary
    study: str
    languages: dict[str, str]


def _summary(stored: StoredVersion) -> VersionSummary:
    return VersionSummary(
        stored.version, stored.content_hash, stored.published_by, stored.published_at
    )


class PublishedVersions:
    """Read-only: every read checks the stored files against their hash (DamagedVersion)."""

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

    async def list(self, study_id: str) -> list[VersionSummary]:
        """Every published version of ``study_id``, oldest first."""
        async with _verified_reads(self.deps) as versions:
            history = await versions.history(study_id)
        if not history and self.deps.studies.get(study_id) is None:
            raise UnknownStudy(f"there is no study {study_id!r}")
        return [_summary(stored) for stored in history]

    async def get(self, study_id: str, version: str) -> VersionFiles:
        """Version ``version`` (as written in the path) of ``study_id``, with its files."""
        number = int(version) if version.isascii() and version.isdigit() else None
        stored = None
        if number is not None and len(version) < 10:
            async with _verified_reads(self.deps) as versions:
                stored = await versions.get(study_id, number)
        if stored is None:
            raise UnknownVersion(
                f"study {study_id!r} has no published version {version!r}: "
                f"GET /api/v1/studies/{study_id}/versions lists them",
                field="version",
            )
        texts = stored.files.texts()
        languages = {
            name.removesuffix(".yaml"): text for name, text in texts.items() if name != STUDY_FILE
        }
        return VersionFiles(_summary(stored), texts[STUDY_FILE], languages)
