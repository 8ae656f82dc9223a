"""Publish a study version: check it, store its files for good, and let re-consent follow.

The version is stored in one short transaction; its ``changes`` then reach people in
transactions of their own (see :mod:`consentbot.services.study_changes`). A dry run
only reads.

``consentbot content publish`` and ``serve`` (for a study never published) come here.
A version, once published, is what people are shown and what their ledger events name:
the same version with different files is refused, and so is going back to a lower one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.check import study_problems
from consentbot.content.files import StudyFiles
from consentbot.content.loader import load_study, load_study_files
from consentbot.content.model import Study
from consentbot.content.problems import ContentError, ContentProblem, Severity
from consentbot.services.change_summary import ChangeSummary
from consentbot.services.clock import Clock
from consentbot.store.database import Database
from consentbot.store.published import PublishedVersionRepository, StoredVersion, TamperedVersion

SERVE = "serve"
"""``published_by`` of a version ``serve`` published on start."""
_BY = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


log = structlog.get_logger(__name__)


class PublishOutcome(StrEnum):
    """What publishing did."""

    PUBLISHED = "published"
    ALREADY_PUBLISHED = "already published"
    """The same version with the same files was published before: nothing changed."""
    WOULD_PUBLISH = "would publish"
    """A dry run: it would be published; nothing was stored."""


@dataclass(frozen=True)
class PublishResult:
    """The version and what became of it."""

    study_id: str
    version: int
    content_hash: str
    outcome: PublishOutcome
    published_by: str
    published_at: datetime
    previous_version: int | None
    """The newest version published before this one, if any."""
    warnings: tuple[ContentProblem, ...] = ()
    after_publish: ChangeSummary | None = None
    """What the version's change did (or, on a dry run, would do), if it declares one."""
    change_unfinished: bool = False
    """The version is published but its change failed part way (the log says why): the
    running service reaches the rest when it picks the version up, or on its next start."""


class PublishRefused(Exception):
    """Publishing was refused; nothing was stored. ``problems`` name the files at fault."""

    def __init__(self, message: str, problems: list[ContentProblem] | None = None) -> None:
        self.problems = problems or []
        lines = "".join(f"\n  - {problem}" for problem in self.problems)
        super().__init__(message + lines)
        self.message = message


class AfterPublish(Protocol):
    """What follows publishing: re-consent (:class:`~consentbot.services.study_changes.StudyChangeService`)."""

    async def preview(
        self, session: AsyncSession, previous: Study | None, new: Study, now: datetime
    ) -> ChangeSummary | None:
        """A dry run: describe what publishing ``new`` after ``previous`` (the newest
        published, None for a first version) would do, reading only through ``session``."""
        ...

    async def apply(self, new: Study, now: datetime) -> ChangeSummary | None:
        """Act on the published version ``new``, after its transaction committed, in
        transactions of its own; safe to call again to finish what a run left."""
        ...


class NothingAfterPublish:
    """The default: publishing changes nothing else."""

    async def preview(
        self, session: AsyncSession, previous: Study | None, new: Study, now: datetime
    ) -> None:
        """Nothing would happen."""
        return None

    async def apply(self, new: Study, now: datetime) -> None:
        """Nothing happens."""
        return None


def _errors(study: Study, folder: Path) -> list[ContentProblem]:
    """The errors ``content check`` finds that stop a loaded study being published
    (coverage); its warnings advise and do not block."""
    return [
        problem
        for problem in study_problems(study, folder, None)
        if problem.severity is Severity.ERROR
    ]


def _same_change(previous: Study, study: Study) -> bool:
    """A change declaration left over from the version before, which would ask again
    everyone who has just answered."""
    if study.changes is None or study.changes != previous.changes:
        return False
    said = previous.texts[previous.default_language].changes
    return said == study.texts[study.default_language].changes


def same_version_refusal(
    study: StudyFiles, version: int, stored: StoredVersion
) -> list[ContentProblem]:
    """A problem per file that differs from the published version with the same number."""
    return [
        ContentProblem(
            study.path(name),
            "",
            f"{how} since version {version} of {study.study_id!r} was published: "
            "raise `version` and publish",
        )
        for name, how in study.differences(stored.files)
    ]


class PublishingService:
    """Publishes study versions from the content folder."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        content_dir: Path,
        *,
        after_publish: AfterPublish | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.content_dir = content_dir
        self.after_publish: AfterPublish = after_publish or NothingAfterPublish()

    async def publish(self, study_id: str, by: str, *, dry_run: bool = False) -> PublishResult:
        """Check ``study_id``'s folder and store it as a published version.

        Raises :class:`PublishRefused` (nothing stored) on content errors, on a version
        published before with different files, and on a version lower than the newest.
        Publishing identical files again changes nothing (``ALREADY_PUBLISHED``).
        """
        by = by.strip()
        if not _BY.match(by):
            raise PublishRefused("--by must name who publishes, in 1 to 200 characters")
        folder = self.content_dir / "studies" / study_id
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", study_id) or not folder.is_dir():
            raise PublishRefused(f"there is no study {study_id!r}: no folder {folder}")
        # Read once: what is checked is exactly what is stored.
        try:
            study = load_study(folder)
        except ContentError as error:
            raise PublishRefused(
                f"{study_id} was not published: fix these errors first", error.problems
            ) from None
        problems = _errors(study, folder) + await self._keyword_taken(study, folder)
        if problems:
            raise PublishRefused(f"{study_id} was not published: fix these errors first", problems)
        return await self.publish_study(study, by, dry_run=dry_run)

    async def _keyword_taken(self, study: Study, folder: Path) -> list[ContentProblem]:
        """An error if another published study answers to the same keyword: the service
        could not serve both (SMS that name it would not know which study they are for)."""
        async with self.db.read() as session:
            newest = await PublishedVersionRepository(session).newest_of_each()
        for other_id, stored in sorted(newest.items()):
            if other_id != study.id and load_study_files(stored.files).keyword == study.keyword:
                return [
                    ContentProblem(
                        folder / "study.yaml",
                        "keyword",
                        f"{study.keyword!r} is already the keyword of study {other_id!r} "
                        "(published): choose another",
                    )
                ]
        return []

    async def publish_study(self, study: Study, by: str, *, dry_run: bool = False) -> PublishResult:
        """Publish ``study`` as loaded (and checked) from its files.

        The version is stored in one short transaction; its change then reaches people
        in transactions of their own (:meth:`AfterPublish.apply`). A dry run only reads.
        """
        assert study.files is not None, "a study to publish must be loaded from its files"
        if dry_run:
            return await self._dry_run(study, study.files, by)
        # A change of the newest version that did not reach everyone (a run that stopped)
        # is finished first: once a newer version is served, nothing else would finish it.
        newest = await self._finish_newest(study.id)
        try:
            async with self.db.transaction() as session:
                versions = PublishedVersionRepository(session)
                await versions.lock_study(study.id)
                result, _previous = await self._decide(session, study, study.files, by, newest)
                if result.outcome is PublishOutcome.PUBLISHED:
                    await versions.add(
                        study.id, study.version, study.files, by, result.published_at
                    )
        except IntegrityError:
            # Another publisher stored this version between our check and our insert.
            raise PublishRefused(
                f"version {study.version} of {study.id!r} was published by someone else "
                "at the same moment: run the command again to see how it compares"
            ) from None
        if result.outcome is not PublishOutcome.PUBLISHED:
            return result
        try:
            summary = await self.after_publish.apply(study, result.published_at)
        except Exception:
            # The version is stored; the people its change did not reach yet are reached
            # when the service next looks (the change resumes), so the publish stands.
            log.exception("study.change_unfinished", study=study.id, version=study.version)
            return replace(result, change_unfinished=True)
        return replace(result, after_publish=summary)

    async def _dry_run(self, study: Study, files: StudyFiles, by: str) -> PublishResult:
        """What publishing would do, in a read-only transaction: no write, no write lock."""
        async with self.db.read() as session:
            result, previous = await self._decide(session, study, files, by, None, dry_run=True)
            if result.outcome is not PublishOutcome.WOULD_PUBLISH:
                return result
            summary = await self.after_publish.preview(
                session, previous, study, result.published_at
            )
        return replace(result, after_publish=summary)

    async def _finish_newest(self, study_id: str) -> Study | None:
        """Apply what is left of the newest published version's change; that version."""
        async with self.db.read() as session:
            try:
                newest = await PublishedVersionRepository(session).newest(study_id)
            except TamperedVersion as error:
                raise PublishRefused(str(error)) from None
        if newest is None:
            return None
        study = load_study_files(newest.files)
        await self.after_publish.apply(study, self.clock())
        return study

    async def _decide(
        self,
        session: AsyncSession,
        study: Study,
        files: StudyFiles,
        by: str,
        known: Study | None,
        *,
        dry_run: bool = False,
    ) -> tuple[PublishResult, Study | None]:
        """What publishing ``study`` does, and the newest version before it (as a Study).

        ``known`` is a study already loaded from the stored files, reused if still newest.
        Raises :class:`PublishRefused`.
        """
        now = self.clock()
        versions = PublishedVersionRepository(session)
        try:
            same = await versions.get(study.id, study.version)
            newest = await versions.newest(study.id)
        except TamperedVersion as error:
            raise PublishRefused(str(error)) from None
        result = PublishResult(
            study_id=study.id,
            version=study.version,
            content_hash=files.content_hash,
            outcome=PublishOutcome.WOULD_PUBLISH if dry_run else PublishOutcome.PUBLISHED,
            published_by=by,
            published_at=now,
            previous_version=newest.version if newest else None,
            warnings=study.warnings,
        )
        if same is not None:
            if same.content_hash != files.content_hash:
                raise PublishRefused(
                    f"version {study.version} of {study.id!r} is already published with "
                    "different files: raise `version` and publish",
                    same_version_refusal(files, study.version, same),
                )
            already = PublishResult(
                study_id=study.id,
                version=same.version,
                content_hash=same.content_hash,
                outcome=PublishOutcome.ALREADY_PUBLISHED,
                published_by=same.published_by,
                published_at=same.published_at,
                previous_version=newest.version if newest else None,
                warnings=study.warnings,
            )
            return already, None
        if newest is not None and newest.version > study.version:
            raise PublishRefused(
                f"version {study.version} of {study.id!r} is lower than version "
                f"{newest.version}, the newest published: raise `version` above "
                f"{newest.version} and publish"
            )
        previous: Study | None = None
        if newest is not None:
            known_hash = known.files.content_hash if known and known.files else None
            if known is not None and known_hash == newest.content_hash:
                previous = known
            else:
                previous = load_study_files(newest.files)
        if previous is not None and _same_change(previous, study):
            raise PublishRefused(
                f"`changes` in {study.id!r} still describes version {previous.version}'s "
                f"change: say what version {study.version} changes, or remove `changes`"
            )
        return result, previous
