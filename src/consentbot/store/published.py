"""Published study versions: added once, read back only after their hash is checked.

There is deliberately no update or delete here. A version is what people were shown;
changing it would change what they agreed to. An edit made behind the repository's back
(an insider with database access) is caught when the version is read: the files no
longer hash to ``content_hash`` and :class:`TamperedVersion` is raised.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.files import StudyFiles
from consentbot.store.tables import PublishedVersion


class TamperedVersion(Exception):
    """A stored version's files do not match its content hash: it was changed after publishing."""

    def __init__(self, study_id: str, version: int) -> None:
        super().__init__(
            f"published version {version} of study {study_id!r} does not match its content "
            "hash: its stored files were changed after publishing; it is not served"
        )
        self.study_id = study_id
        self.version = version


@dataclass(frozen=True)
class StoredVersion:
    """A published version whose files were checked against its hash."""

    study_id: str
    version: int
    content_hash: str
    files: StudyFiles
    published_by: str
    published_at: datetime


def stored_label(study_id: str, version: int) -> Path:
    """Where problems in a stored version's files say they are: ``published/<id>/v<n>``."""
    return Path("published", study_id, f"v{version}")


def _verified(row: PublishedVersion) -> StoredVersion:
    try:
        texts = json.loads(row.files)
        if not isinstance(texts, dict) or not all(isinstance(v, str) for v in texts.values()):
            raise TamperedVersion(row.study_id, row.version)
        files = StudyFiles.from_texts(row.study_id, stored_label(row.study_id, row.version), texts)
    except (ValueError, UnicodeEncodeError):
        raise TamperedVersion(row.study_id, row.version) from None
    if files.content_hash != row.content_hash:
        raise TamperedVersion(row.study_id, row.version)
    return StoredVersion(
        row.study_id, row.version, row.content_hash, files, row.published_by, row.published_at
    )


class PublishedVersionRepository:
    """Store a version once; read versions back, verified."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_study(self, study_id: str) -> None:
        """Serialise publishing of ``study_id`` until commit (PostgreSQL; SQLite has one writer)."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.exec(  # type: ignore[call-overload]
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                params={"key": f"published_versions:{study_id}"},
            )

    async def add(
        self, study_id: str, version: int, files: StudyFiles, by: str, now: datetime
    ) -> StoredVersion:
        """Store ``files`` as ``version`` of ``study_id`` (files must be UTF-8 text)."""
        row = PublishedVersion(
            study_id=study_id,
            version=version,
            content_hash=files.content_hash,
            files=json.dumps(files.texts(), ensure_ascii=False, sort_keys=True),
            published_by=by,
            published_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _verified(row)

    async def get(self, study_id: str, version: int) -> StoredVersion | None:
        """Version ``version`` of ``study_id``, if published (raises TamperedVersion)."""
        statement = select(PublishedVersion).where(
            PublishedVersion.study_id == study_id, PublishedVersion.version == version
        )
        row = (await self.session.exec(statement)).first()
        return _verified(row) if row is not None else None

    async def newest(self, study_id: str) -> StoredVersion | None:
        """The highest published version of ``study_id``, if any (raises TamperedVersion)."""
        statement = (
            select(PublishedVersion)
            .where(PublishedVersion.study_id == study_id)
            .order_by(col(PublishedVersion.version).desc())
            .limit(1)
        )
        row = (await self.session.exec(statement)).first()
        return _verified(row) if row is not None else None

    async def earlier(self, study_id: str, version: int) -> int | None:
        """The highest version of ``study_id`` published below ``version``, if any."""
        statement = select(func.max(PublishedVersion.version)).where(
            PublishedVersion.study_id == study_id, PublishedVersion.version < version
        )
        return (await self.session.exec(statement)).one()

    async def history(self, study_id: str) -> Sequence[StoredVersion]:
        """Every published version of ``study_id``, oldest first (raises TamperedVersion)."""
        statement = (
            select(PublishedVersion)
            .where(PublishedVersion.study_id == study_id)
            .order_by(col(PublishedVersion.version))
        )
        return [_verified(row) for row in (await self.session.exec(statement)).all()]

    async def newest_of_each(self) -> dict[str, StoredVersion]:
        """The highest published version of every study, by study id (raises TamperedVersion)."""
        newest = (
            select(PublishedVersion.study_id, func.max(PublishedVersion.version).label("version"))
            .group_by(col(PublishedVersion.study_id))
            .subquery()
        )
        statement = select(PublishedVersion).join(
            newest,
            (col(PublishedVersion.study_id) == newest.c.study_id)
            & (col(PublishedVersion.version) == newest.c.version),
        )
        rows = (await self.session.exec(statement)).all()
        return {row.study_id: _verified(row) for row in rows}

    async def marker(self) -> tuple[int, int]:
        """(count, highest id): changes whenever a version is published, and is cheap to read.

        The count as well as the id, because on PostgreSQL a lower id can commit after a
        higher one.
        """
        statement = select(func.count(), func.max(PublishedVersion.id))
        count, highest = (await self.session.exec(statement)).one()
        return int(count), int(highest or 0)
