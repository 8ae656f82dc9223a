"""Publish a study version: check it, store its files for good, and let re-consent follow.

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

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.check import check_content
from consentbot.content.files import StudyFiles
from consentbot.content.loader import load_study, load_study_files
from consentbot.content.model import Study
from consentbot.content.problems import ContentError, ContentProblem
from consentbot.services.clock import Clock
from consentbot.store.database import Database
from consentbot.store.published import PublishedVersionRepository, StoredVersion, TamperedVersion

SERVE = "serve"
"""``published_by`` of a version ``serve`` published on start."""
_BY = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


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
    after_publish: object | None = None
    """What the after-publish hook reported (re-consent), if anything."""


class PublishRefused(Exception):
    """Publishing was refused; nothing was stored. ``problems`` name the files at fault."""

    def __init__(self, message: str, problems: list[ContentProblem] | None = None) -> None:
        self.problems = problems or []
        lines = "".join(f"\n  - {problem}" for problem in self.problems)
        super().__init__(message + lines)
        self.message = message


class AfterPublish(Protocol):
    """Called inside the publishing transaction, after the version row is written.

    ``previous`` is the newest version published before (None for a first version).
    On a dry run nothing is stored and the transaction is rolled back afterwards,
    whatever the hook wrote. It returns a summary to print, or None.
    """

    async def __call__(
        self,
        session: AsyncSession,
        previous: Study | None,
        new: Study,
        now: datetime,
        dry_run: bool,
    ) -> object | None:
        """Act on (or, on a dry run, describe) the change from ``previous`` to ``new``."""
        ...


async def nothing_after_publish(
    session: AsyncSession, previous: Study | None, new: Study, now: datetime, dry_run: bool
) -> None:
    """The default hook: publishing changes nothing else."""
    return None


def _checks(folder: Path) -> list[ContentProblem]:
    """The errors ``content check`` finds that stop a study being published (schema,
    coverage); its warnings advise and do not block."""
    (report,) = check_content(folder.parent.parent, folder.name)
    return report.errors


def _same_change(previous: Study, study: Study) -> bool:
    """A change declaration left over from the version before, which would ask again
    everyone who has just answered."""
    if study.changes is None or study.changes != previous.changes:
        return False
    said = previous.texts[previous.default_language].changes
    return said == study.texts[study.default_language].changes


class _DryRun(Exception):
    """Raised to roll back a dry run's transaction once its result is known."""

    def __init__(self, result: PublishResult) -> None:
        super().__init__("dry run")
        self.result = result


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
        after_publish: AfterPublish = nothing_after_publish,
    ) -> None:
        self.db = db
        self.clock = clock
        self.content_dir = content_dir
        self.after_publish = after_publish

    async def publish(self, study_id: str, by: str, *, dry_run: bool = False) -> PublishResult:
        """Check ``study_id``'s folder and store it as a published version, in one transaction.

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
        problems = _checks(folder)
        if problems:
            raise PublishRefused(f"{study_id} was not published: fix these errors first", problems)
        try:
            study = load_study(folder)
        except ContentError as error:  # changed since the checks ran
            raise PublishRefused(f"{study_id} was not published", error.problems) from None
        return await self.publish_study(study, by, dry_run=dry_run)

    async def publish_study(self, study: Study, by: str, *, dry_run: bool = False) -> PublishResult:
        """Publish ``study`` as loaded (and checked) from its files."""
        assert study.files is not None, "a study to publish must be loaded from its files"
        try:
            async with self.db.transaction() as session:
                return await self._publish(session, study, study.files, by, dry_run)
        except _DryRun as rolled_back:
            return rolled_back.result
        except IntegrityError:
            # Another publisher stored this version between our check and our insert.
            raise PublishRefused(
                f"version {study.version} of {study.id!r} was published by someone else "
                "at the same moment: run the command again to see how it compares"
            ) from None

    async def _publish(
        self, session: AsyncSession, study: Study, files: StudyFiles, by: str, dry_run: bool
    ) -> PublishResult:
        now = self.clock()
        versions = PublishedVersionRepository(session)
        await versions.lock_study(study.id)
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
            return PublishResult(
                study_id=study.id,
                version=same.version,
                content_hash=same.content_hash,
                outcome=PublishOutcome.ALREADY_PUBLISHED,
                published_by=same.published_by,
                published_at=same.published_at,
                previous_version=newest.version if newest else None,
                warnings=study.warnings,
            )
        if newest is not None and newest.version > study.version:
            raise PublishRefused(
                f"version {study.version} of {study.id!r} is lower than version "
                f"{newest.version}, the newest published: raise `version` above "
                f"{newest.version} and publish"
            )
        previous = load_study_files(newest.files) if newest is not None else None
        if previous is not None and _same_change(previous, study):
            raise PublishRefused(
                f"`changes` in {study.id!r} still describes version {previous.version}'s "
                f"change: say what version {study.version} changes, or remove `changes`"
            )
        if not dry_run:
            await versions.add(study.id, study.version, files, by, now)
        # Re-consent plugs in here: same transaction, after the version row is written.
        summary = await self.after_publish(session, previous, study, now, dry_run)
        result = replace(result, after_publish=summary)
        if dry_run:
            raise _DryRun(result)
        return result
