"""Publishing a study version: what is refused, what a dry run leaves, what the hook sees."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.loader import load_catalogue
from consentbot.content.model import Reconsent, Study
from consentbot.services.change_summary import ChangeSummary
from consentbot.services.clock import ManualClock
from consentbot.services.publishing import PublishingService, PublishOutcome, PublishRefused
from consentbot.services.served_versions import unpublished_edits
from consentbot.store.database import Database
from consentbot.store.published import PublishedVersionRepository
from consentbot.store.tables import ApiToken
from tests.support.content import edit_summary, edit_yaml, sample_copy, set_version
from tests.support.journey import STUDY


def summary_of(study: Study) -> ChangeSummary:
    return ChangeSummary(study.id, study.version, Reconsent.NOTIFY, ())


@dataclass
class Hook:
    """Records each call, and whether apply found the version already committed."""

    db: Database | None = None
    calls: list[tuple[str, int | None, int]] = field(default_factory=list)
    saw_stored: list[bool] = field(default_factory=list)

    async def preview(
        self, session: AsyncSession, previous: Study | None, new: Study, now: datetime
    ) -> ChangeSummary:
        self.calls.append(("preview", previous.version if previous else None, new.version))
        return summary_of(new)

    async def apply(self, new: Study, now: datetime) -> ChangeSummary:
        self.calls.append(("apply", None, new.version))
        assert self.db is not None
        async with self.db.read() as session:
            stored_version = await PublishedVersionRepository(session).get(new.id, new.version)
        self.saw_stored.append(stored_version is not None)
        return summary_of(new)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return sample_copy(tmp_path / "content")


@pytest.fixture
def hook(db: Database) -> Hook:
    return Hook(db)


@pytest.fixture
def publishing(db: Database, clock: ManualClock, content: Path, hook: Hook) -> PublishingService:
    return PublishingService(db, clock, content, after_publish=hook)


async def stored(db: Database) -> tuple[tuple[int, int], int]:
    """(published versions marker, API tokens: publishing writes none)."""
    async with db.read() as session:
        hook_rows = len((await session.exec(select(ApiToken))).all())
        return await PublishedVersionRepository(session).marker(), hook_rows


async def test_publish_stores_the_version_then_applies_its_consequences(
    publishing: PublishingService, db: Database, hook: Hook, clock: ManualClock
) -> None:
    result = await publishing.publish(STUDY, "Dr Ada Lovelace")
    assert result.outcome is PublishOutcome.PUBLISHED
    assert (result.version, result.published_by, result.published_at) == (
        1,
        "Dr Ada Lovelace",
        clock(),
    )
    assert result.previous_version is None
    assert result.after_publish is not None
    assert (result.after_publish.study, result.after_publish.version) == (STUDY, 1)
    assert hook.calls == [("apply", None, 1)]
    assert hook.saw_stored == [True]  # applied after the version's transaction committed
    async with db.read() as session:
        saved = await PublishedVersionRepository(session).get(STUDY, 1)
    assert saved is not None
    assert saved.content_hash == result.content_hash


async def test_publishing_the_same_files_again_changes_nothing(
    publishing: PublishingService, db: Database, hook: Hook, clock: ManualClock
) -> None:
    first = await publishing.publish(STUDY, "Dr Ada")
    before = await stored(db)
    clock.advance(timedelta(days=30))
    again = await publishing.publish(STUDY, "Someone else")
    assert again.outcome is PublishOutcome.ALREADY_PUBLISHED
    assert (again.published_by, again.content_hash) == ("Dr Ada", first.content_hash)
    assert (await stored(db))[0] == before[0]  # no version stored
    # Publishing again finishes what the newest version's change left; it reports nothing.
    assert again.after_publish is None
    assert hook.calls == [("apply", None, 1), ("apply", None, 1)]


async def test_dry_run_stores_nothing_and_only_previews(
    publishing: PublishingService, db: Database, hook: Hook, content: Path
) -> None:
    await publishing.publish(STUDY, "Dr Ada")
    set_version(content, 2)
    edit_summary(content, "A new summary for version 2.")
    before = await stored(db)
    result = await publishing.publish(STUDY, "Dr Ada", dry_run=True)
    assert result.outcome is PublishOutcome.WOULD_PUBLISH
    assert (result.version, result.previous_version) == (2, 1)
    assert result.after_publish is not None
    assert result.after_publish.version == 2
    assert hook.calls[-1] == ("preview", 1, 2)
    assert [call for call, *_ in hook.calls] == ["apply", "preview"]
    assert await stored(db) == before
    async with db.read() as session:
        assert await PublishedVersionRepository(session).get(STUDY, 2) is None


async def test_same_version_with_different_files_is_refused_naming_the_file(
    publishing: PublishingService, db: Database, content: Path
) -> None:
    await publishing.publish(STUDY, "Dr Ada")
    edit_summary(content, "Quietly changed.", language="pl")
    before = await stored(db)
    with pytest.raises(PublishRefused) as refused:
        await publishing.publish(STUDY, "Dr Ada")
    assert "already published with different files: raise `version` and publish" in str(
        refused.value
    )
    (problem,) = refused.value.problems
    assert problem.file == content / "studies" / STUDY / "pl.yaml"
    assert "was changed since version 1" in problem.problem
    assert await stored(db) == before
    # The content check reports the same, as an error naming the file.
    edits = await unpublished_edits(db, load_catalogue(content))
    assert [(p.file.name, "raise `version` and publish" in p.problem) for p in edits] == [
        ("pl.yaml", True)
    ]


async def test_a_version_lower_than_the_newest_is_refused(
    publishing: PublishingService, db: Database, content: Path
) -> None:
    set_version(content, 3)
    await publishing.publish(STUDY, "Dr Ada")
    set_version(content, 2)
    before = await stored(db)
    with pytest.raises(
        PublishRefused, match="version 2 of 'joint-health-records' is lower than version 3"
    ):
        await publishing.publish(STUDY, "Dr Ada")
    assert await stored(db) == before


async def test_content_errors_are_refused_and_nothing_is_stored(
    publishing: PublishingService, db: Database, content: Path
) -> None:
    (content / "studies" / STUDY / "cy.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(PublishRefused) as refused:
        await publishing.publish(STUDY, "Dr Ada")
    assert "fix these errors first" in str(refused.value)
    assert refused.value.problems[0].file.name == "cy.yaml"
    assert await stored(db) == ((0, 0), 0)


@pytest.mark.parametrize(
    ("study", "by", "message"),
    [
        ("no-such-study", "Dr Ada", "there is no study 'no-such-study'"),
        ("../content", "Dr Ada", "there is no study '../content'"),
        (STUDY, "  ", "--by must name who publishes"),
        (STUDY, "Ada\nLovelace", "--by must name who publishes"),
    ],
)
async def test_bad_arguments_are_refused(
    publishing: PublishingService, db: Database, study: str, by: str, message: str
) -> None:
    with pytest.raises(PublishRefused, match=message):
        await publishing.publish(study, by)
    assert await stored(db) == ((0, 0), 0)


async def test_a_change_left_over_from_the_last_version_is_refused(
    publishing: PublishingService, db: Database, content: Path
) -> None:
    await publishing.publish(STUDY, "Dr Ada")
    folder = content / "studies" / STUDY
    study = yaml.safe_load((folder / "study.yaml").read_text(encoding="utf-8"))
    study.update(version=2, changes={"purposes": ["updates"], "reconsent": "notify"})
    (folder / "study.yaml").write_text(yaml.safe_dump(study), encoding="utf-8")
    english = yaml.safe_load((folder / "en.yaml").read_text(encoding="utf-8"))
    english["changes"] = "We now send updates twice a year."
    (folder / "en.yaml").write_text(yaml.safe_dump(english, allow_unicode=True), encoding="utf-8")
    assert (await publishing.publish(STUDY, "Dr Ada")).version == 2

    set_version(content, 3)  # the same declaration would ask everyone again
    before = await stored(db)
    with pytest.raises(PublishRefused, match="still describes version 2's change"):
        await publishing.publish(STUDY, "Dr Ada")
    assert await stored(db) == before


async def test_a_keyword_another_published_study_answers_to_is_refused(
    publishing: PublishingService, db: Database, content: Path
) -> None:
    await publishing.publish(STUDY, "Dr Ada")
    second = content / "studies" / "knee-study"
    shutil.copytree(content / "studies" / STUDY, second)
    edit_yaml(second / "study.yaml", lambda data: data.update(id="knee-study"))
    before = await stored(db)
    with pytest.raises(PublishRefused) as refused:
        await publishing.publish("knee-study", "Dr Ada")
    (problem,) = refused.value.problems
    assert (problem.file, problem.field) == (second / "study.yaml", "keyword")
    assert problem.problem == "'JOINTS' is already the keyword of study 'joint-health-records' (published): choose another"
    assert await stored(db) == before

    edit_yaml(second / "study.yaml", lambda data: data.update(keyword="KNEES"))
    result = await publishing.publish("knee-study", "Dr Ada")
    assert result.outcome is PublishOutcome.PUBLISHED


async def test_a_change_that_fails_part_way_leaves_the_version_published_and_says_so(
    publishing: PublishingService, db: Database, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fails(new: Study, now: datetime) -> ChangeSummary:
        raise RuntimeError("the database went away between two groups")

    monkeypatch.setattr(hook, "apply", fails)
    result = await publishing.publish(STUDY, "Dr Ada")
    assert result.outcome is PublishOutcome.PUBLISHED
    assert result.change_unfinished
    assert result.after_publish is None
    async with db.read() as session:
        assert await PublishedVersionRepository(session).get(STUDY, 1) is not None
