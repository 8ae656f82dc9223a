"""Published versions: stored once, read back verified; an edit in the database is refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from consentbot.content.files import StudyFiles, read_folder
from consentbot.content.problems import ContentProblem
from consentbot.store import migrate
from consentbot.store.database import Database, sync_url
from consentbot.store.published import PublishedVersionRepository, TamperedVersion
from tests.conftest import START
from tests.support.journey import ROOT, STUDY


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


def sample() -> StudyFiles:
    problems: list[ContentProblem] = []
    files = read_folder(ROOT / "content" / "studies" / STUDY, problems)
    assert files is not None, problems
    return files


def changed(files: StudyFiles, name: str) -> StudyFiles:
    return StudyFiles(
        files.study_id, files.folder, {**files.files, name: files.files[name] + b"\n# v2\n"}
    )


async def test_versions_are_stored_and_read_back_exactly(db: Database) -> None:
    files = sample()
    async with db.transaction() as session:
        versions = PublishedVersionRepository(session)
        assert await versions.marker() == (0, 0)
        await versions.add(STUDY, 1, files, "Dr Ada", START)
        await versions.add(STUDY, 2, changed(files, "en.yaml"), "Dr Ada", START)
        await versions.add("other-study", 1, files, "serve", START)
    async with db.read() as session:
        versions = PublishedVersionRepository(session)
        one = await versions.get(STUDY, 1)
        newest = await versions.newest(STUDY)
        history = await versions.history(STUDY)
        each = await versions.newest_of_each()
        marker = await versions.marker()
        assert await versions.get(STUDY, 3) is None
    assert one is not None
    assert one.files.files == files.files
    assert one.content_hash == files.content_hash
    assert (one.published_by, one.published_at) == ("Dr Ada", START)
    assert newest is not None
    assert newest.version == 2
    assert [v.version for v in history] == [1, 2]
    assert {study: v.version for study, v in each.items()} == {STUDY: 2, "other-study": 1}
    assert marker[0] == 3


async def test_a_version_number_is_stored_once(db: Database) -> None:
    async with db.transaction() as session:
        await PublishedVersionRepository(session).add(STUDY, 1, sample(), "serve", START)
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await PublishedVersionRepository(session).add(
                STUDY, 1, changed(sample(), "cy.yaml"), "x", START
            )


@pytest.mark.parametrize("edit", ["files", "hash", "not json"])
async def test_files_edited_in_the_database_are_refused(db: Database, edit: str) -> None:
    async with db.transaction() as session:
        await PublishedVersionRepository(session).add(STUDY, 1, sample(), "serve", START)
    texts = sample().texts()
    texts["en.yaml"] = texts["en.yaml"].replace("research", "marketing")
    statement = {
        "files": ("UPDATE published_versions SET files = :value", json.dumps(texts)),
        "hash": ("UPDATE published_versions SET content_hash = :value", "0" * 64),
        "not json": ("UPDATE published_versions SET files = :value", "{"),
    }[edit]
    async with db.transaction() as session:
        await session.exec(text(statement[0]), params={"value": statement[1]})  # type: ignore[call-overload]
    async with db.read() as session:
        versions = PublishedVersionRepository(session)
        with pytest.raises(TamperedVersion, match="does not match its content hash"):
            await versions.get(STUDY, 1)
        with pytest.raises(TamperedVersion):
            await versions.newest_of_each()


def test_migration_0006_adds_the_table_and_its_unique_version(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    config = migrate.alembic_config(url)
    command.upgrade(config, "0005")
    engine = create_engine(sync_url(url))
    try:
        assert "published_versions" not in inspect(engine).get_table_names()
        command.upgrade(config, "head")
        insert = text(
            "INSERT INTO published_versions (study_id, version, content_hash, files, "
            "published_by, published_at) VALUES ('s', 1, 'h', '{}', 'serve', '2026-01-01')"
        )
        with engine.begin() as connection:
            connection.execute(insert)
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert)
        command.downgrade(config, "0005")
        assert "published_versions" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
