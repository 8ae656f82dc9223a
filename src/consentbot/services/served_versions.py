"""What ``serve`` serves: the newest published version of each study, kept current.

On start a study never published is published (by ``serve``), and files that differ from
the published version with the same number stop the start. While running,
:class:`PublishedWatcher` looks every few seconds for a newly published version and swaps
the live catalogue. A study folder that appears later is not served until it is published.

On start and whenever it serves a new version, the watcher also finishes applying that
version's ``changes`` (:meth:`StudyChangeService.resume`): publishing commits the version
before its change reaches everyone, so a publish that stopped half-way is completed here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog

from consentbot.content.live import LiveCatalogue
from consentbot.content.loader import load_study_files
from consentbot.content.model import Study, StudyCatalogue
from consentbot.content.problems import ContentError, ContentProblem
from consentbot.services.publishing import (
    SERVE,
    PublishingService,
    PublishRefused,
    same_version_refusal,
)
from consentbot.store.database import Database
from consentbot.store.published import PublishedVersionRepository, TamperedVersion, stored_label

log = structlog.get_logger(__name__)

Prepare = Callable[[StudyCatalogue], StudyCatalogue]
"""What is done to the published studies before they are served (demo mode's cooling-off)."""
Resume = Callable[[Study], Awaitable[object]]
"""Finishes applying a served version's ``changes`` to the people still to reach."""


async def unpublished_edits(
    db: Database, catalogue_from_files: StudyCatalogue
) -> list[ContentProblem]:
    """Errors for files that differ from the published version with the same ``version``.

    One problem per file that differs, naming it, saying "raise `version` and publish".
    A stored version that fails its hash check is reported too.
    """
    problems: list[ContentProblem] = []
    async with db.read() as session:
        versions = PublishedVersionRepository(session)
        for study in catalogue_from_files.studies.values():
            if study.files is None:
                continue
            try:
                stored = await versions.get(study.id, study.version)
            except TamperedVersion as error:
                label = stored_label(study.id, study.version)
                problems.append(ContentProblem(label, "", str(error)))
                continue
            if stored is not None and stored.content_hash != study.files.content_hash:
                problems += same_version_refusal(study.files, study.version, stored)
    return problems


async def load_published(db: Database, known: StudyCatalogue | None = None) -> StudyCatalogue:
    """The newest published version of every study (raises TamperedVersion, ContentError).

    A study in ``known`` loaded from exactly the stored files is reused, not parsed again:
    the same bytes load to the same study.
    """
    async with db.read() as session:
        stored = await PublishedVersionRepository(session).newest_of_each()
    studies: dict[str, Study] = {}
    problems: list[ContentProblem] = []
    for study_id in sorted(stored):
        version = stored[study_id]
        same = known.get(study_id) if known is not None else None
        if same is not None and same.files and same.files.content_hash == version.content_hash:
            study = same
        else:
            study = load_study_files(version.files)
        clash = next((s for s in studies.values() if s.keyword == study.keyword), None)
        if clash is not None:
            problems.append(
                ContentProblem(
                    stored[study_id].files.path("study.yaml"),
                    "keyword",
                    f"{study.keyword!r} is already used by study {clash.id!r}",
                )
            )
            continue
        studies[study_id] = study
    if problems:
        raise ContentError(problems)
    return StudyCatalogue(studies)


async def serve_published(
    db: Database, files: StudyCatalogue, publishing: PublishingService
) -> StudyCatalogue:
    """On start: refuse edited files, publish studies never published, load what to serve.

    A study never published is published as the loader accepted it when the service
    started; ``consentbot content publish`` runs the full checks.

    Raises ContentError (naming the study and file: "raise `version` and publish", or a
    stored version whose files were changed); the service must not start.
    """
    edits = await unpublished_edits(db, files)
    if edits:
        raise ContentError(edits)
    try:
        async with db.read() as session:
            published = await PublishedVersionRepository(session).newest_of_each()
        for study_id, study in sorted(files.studies.items()):
            if study_id not in published:
                result = await publishing.publish_study(study, SERVE)
                log.info(
                    "content.published",
                    study=study_id,
                    version=result.version,
                    content_hash=result.content_hash,
                    by=SERVE,
                )
        served = await load_published(db, files)
    except TamperedVersion as error:
        raise ContentError(
            [ContentProblem(stored_label(error.study_id, error.version), "", str(error))]
        ) from None
    except PublishRefused as refused:
        raise ContentError(
            refused.problems or [ContentProblem(Path(), "", refused.message)]
        ) from None
    for study_id, study in files.studies.items():
        newest = served.get(study_id)
        if newest is not None and newest.version < study.version:
            log.warning(
                "content.unpublished_version",
                study=study_id,
                files_version=study.version,
                served_version=newest.version,
                note="run consentbot content publish to serve the new version",
            )
    return served


class PublishedWatcher:
    """Swaps the live catalogue when a version is published, without a restart."""

    def __init__(
        self, db: Database, live: LiveCatalogue, prepare: Prepare, resume: Resume | None = None
    ) -> None:
        self.db = db
        self.live = live
        self.prepare = prepare
        self.resume = resume
        self._seen: tuple[int, int] | None = None
        self._served: StudyCatalogue | None = None
        self._unfinished: set[str] = set()
        """Studies whose served version's change may not have reached everyone yet."""

    async def start(self, served: StudyCatalogue) -> None:
        """Serve ``served``, remember what was published when it was loaded, and finish
        any change a publish left half-applied."""
        async with self.db.read() as session:
            self._seen = await PublishedVersionRepository(session).marker()
        self._served = served
        await self.live.swap(self.prepare(served))
        self._unfinished = set(served.studies)
        await self._finish_changes()

    async def check_once(self) -> bool:
        """Serve the newest versions if anything was published since last time; True if so.

        A cheap read (a count and the highest id) when nothing changed. A new version's
        change is applied before the version is served (an error leaves the old one served
        and is tried again next round); a change left unfinished is tried again each round.
        """
        async with self.db.read() as session:
            marker = await PublishedVersionRepository(session).marker()
        if marker == self._seen:
            await self._finish_changes()
            return False
        served = await load_published(self.db, self._served)
        prepared = self.prepare(served)
        before = {study_id: study.version for study_id, study in self.live.studies.items()}
        changed = [s for s in prepared.studies.values() if before.get(s.id) != s.version]
        if self.resume is not None:
            # The new text is served only once its change reached everyone: until then a
            # yes is given to the old text, and found and asked again by this same sweep.
            for study in changed:
                if study.id in before and study.changes is not None:
                    await self.resume(study)
        await self.live.swap(prepared)
        self._seen, self._served = marker, served
        for study in changed:
            log.info("content.version_served", study=study.id, version=study.version)
            # Once more after the swap: a yes to the old text that committed meanwhile.
            self._unfinished.add(study.id)
        await self._finish_changes()
        return True

    async def _finish_changes(self) -> None:
        """Resume each unfinished study's change; one that fails is tried next round."""
        if self.resume is None:
            self._unfinished.clear()
            return
        for study_id in sorted(self._unfinished):
            study = self.live.get(study_id)
            if study is None or study.changes is None:
                self._unfinished.discard(study_id)
                continue
            try:
                await self.resume(study)
            except Exception as error:  # the database may be away: try again next round
                log.warning(
                    "study.changes_resume_failed", study=study_id, error_type=type(error).__name__
                )
                continue
            self._unfinished.discard(study_id)

    async def run(self, interval: float) -> None:
        """Look every ``interval`` seconds until cancelled; keep serving what we have on errors."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check_once()
            except (ContentError, TamperedVersion) as error:
                # A published version that cannot be served (changed in the database, or a
                # keyword clash): keep the current one and say so every round until fixed.
                log.error(
                    "content.published_refused", error_type=type(error).__name__, detail=str(error)
                )
            except Exception as error:  # the database may be away: try again next round
                log.warning("content.poll_failed", error_type=type(error).__name__)
