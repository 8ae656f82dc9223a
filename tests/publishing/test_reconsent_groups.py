"""A published change reaches people in groups after the version commits, and resumes.

Five people said yes (cooling off) to the commercial purpose. Version 2 changes it.
With groups of two, publishing commits the version, then reaches them in three
transactions; a crash after the first group leaves three for the watcher to reach when
it serves the version; nobody gets a second ledger event or a second message. A dry run
reads and writes nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot import keys
from consentbot.content.model import Study, StudyChanges
from consentbot.domain.outbox import OutboxKind
from consentbot.services.change_summary import ChangeSummary
from consentbot.services.publishing import PublishOutcome
from consentbot.services.study_changes import StudyChangeService
from consentbot.settings import Settings
from consentbot.store.database import Database
from consentbot.store.published import PublishedVersionRepository
from consentbot.store.study_changes import StudyChangeRepository
from consentbot.store.tables import (
    ConsentEvent,
    ConsentState,
    OutboxMessage,
    Participant,
    StudyChangeApplied,
)
from tests.conftest import AppClient
from tests.support.content import sample_copy
from tests.support.journey import STUDY, ResearchSystem
from tests.support.query_plans import statements_sent
from tests.support.study_changes import declare_change
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

Loops = Callable[[], Awaitable[None]]
COMMERCIAL = "commercial-partner"
PEOPLE = 5
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|BEGIN IMMEDIATE)\b|FOR UPDATE|advisory", re.I)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.with_(content_dir=sample_copy(tmp_path / "content"))


@pytest.fixture
async def cooling(
    client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> list[TwilioPhone]:
    """Five people who said yes to every question and are cooling off."""
    research = await ResearchSystem.register(client)
    phones = []
    for n in range(PEOPLE):
        number = f"+4474009007{n:02d}"
        await research.invite(number, f"person-{n}")
        phones.append(TwilioPhone(client, fake_twilio, number))
    await run_loops()
    for phone in phones:
        for _ in range(6):
            await phone.send("YES")
    await run_loops()
    for phone in phones:
        phone.text()
    return phones


@pytest.fixture
def changes(client: AppClient) -> StudyChangeService:
    """The app's change service, reaching two people per transaction."""
    service = client.app[keys.PUBLISHING].after_publish
    assert isinstance(service, StudyChangeService)
    service.group_size = 2
    return service


def groups_of(service: StudyChangeService, monkeypatch: pytest.MonkeyPatch, *, fail_after: int | None = None) -> list[int]:
    """Record the size of each group applied; with ``fail_after``, die in the group after it."""
    sizes: list[int] = []
    apply_group = service._apply_group

    async def recording(
        session: AsyncSession,
        changed: StudyChangeRepository,
        study: Study,
        study_changes: StudyChanges,
        ids: Sequence[int],
        now: datetime,
    ) -> ChangeSummary:
        summary = await apply_group(session, changed, study, study_changes, ids, now)
        if fail_after is not None and len(sizes) == fail_after:
            raise RuntimeError("the process died")  # after the group's writes: all rolled back
        sizes.append(len(ids))
        return summary

    monkeypatch.setattr(service, "_apply_group", recording)
    return sizes


async def table_counts(db: Database) -> dict[str, int]:
    async with db.read() as session:
        counts = {}
        for table in (ConsentEvent, ConsentState, OutboxMessage, Participant, StudyChangeApplied):
            statement = select(func.count()).select_from(table)
            counts[table.__name__] = int((await session.exec(statement)).one())
        return counts


async def reached(db: Database) -> tuple[Counter[int], Counter[int | None], dict[str, int]]:
    """(reconsent events per participant, change messages per participant, statuses)."""
    async with db.read() as session:
        events = await session.exec(
            select(ConsentEvent.participant_id).where(
                ConsentEvent.to_status == "reconsent_required"
            )
        )
        messages = await session.exec(
            select(OutboxMessage.participant_id).where(
                col(OutboxMessage.kind) == OutboxKind.STUDY_CHANGED
            )
        )
        statuses = await session.exec(
            select(ConsentState.status).where(ConsentState.purpose_id == COMMERCIAL)
        )
        return Counter(events.all()), Counter(messages.all()), dict(Counter(statuses.all()))


async def test_a_dry_run_reads_only_and_counts_what_publishing_does(
    client: AppClient, cooling: list[TwilioPhone], changes: StudyChangeService
) -> None:
    db = client.app[keys.DATABASE]
    declare_change(client)
    before = await table_counts(db)
    with statements_sent(db) as sent:
        dry = await client.app[keys.PUBLISHING].publish(STUDY, "Research team", dry_run=True)
    seen = [statement for statement, _parameters in sent]
    assert seen  # it did read
    assert [s for s in seen if WRITES.search(s)] == []
    assert await table_counts(db) == before
    async with db.read() as session:
        assert await PublishedVersionRepository(session).get(STUDY, 2) is None
    assert dry.outcome is PublishOutcome.WOULD_PUBLISH

    real = await client.app[keys.PUBLISHING].publish(STUDY, "Research team")
    assert dry.after_publish is not None
    assert real.after_publish is not None
    assert dry.after_publish.participants == real.after_publish.participants == PEOPLE
    assert dry.after_publish.by_purpose_and_status == real.after_publish.by_purpose_and_status
    assert (dry.after_publish.messages, dry.after_publish.segments) == (
        real.after_publish.messages,
        real.after_publish.segments,
    )
    assert real.after_publish.messages >= PEOPLE


async def test_a_change_for_more_people_than_a_group_is_applied_group_by_group(
    client: AppClient,
    cooling: list[TwilioPhone],
    changes: StudyChangeService,
    monkeypatch: pytest.MonkeyPatch,
    run_loops: Loops,
) -> None:
    sizes = groups_of(changes, monkeypatch)
    declare_change(client)
    result = await client.app[keys.PUBLISHING].publish(STUDY, "Research team")
    assert sizes == [2, 2, 1]
    assert result.after_publish is not None
    assert result.after_publish.participants == PEOPLE
    assert result.after_publish.by_purpose_and_status == {(COMMERCIAL, "pending"): PEOPLE}
    events, messages, statuses = await reached(client.app[keys.DATABASE])
    assert set(events.values()) == set(messages.values()) == {1}
    assert len(events) == len(messages) == PEOPLE
    assert statuses == {"reconsent_required": PEOPLE}
    await run_loops()
    assert all("Question 1 of 1" in phone.text() for phone in cooling)


@pytest.mark.parametrize("reconsent", ["required", "notify"])
async def test_a_run_that_dies_between_groups_is_finished_by_the_watcher_once(
    client: AppClient,
    cooling: list[TwilioPhone],
    changes: StudyChangeService,
    monkeypatch: pytest.MonkeyPatch,
    run_loops: Loops,
    reconsent: str,
) -> None:
    db = client.app[keys.DATABASE]
    sizes = groups_of(changes, monkeypatch, fail_after=1)
    declare_change(client, reconsent=reconsent)
    result = await client.app[keys.PUBLISHING].publish(STUDY, "Research team")
    assert (result.outcome, result.change_unfinished) == (PublishOutcome.PUBLISHED, True)
    assert sizes == [2]
    async with db.read() as session:
        assert await PublishedVersionRepository(session).get(STUDY, 2) is not None
    events, messages, _statuses = await reached(db)
    assert len(messages) == 2  # the first group was committed; the second rolled back
    assert len(events) == (2 if reconsent == "required" else 0)

    monkeypatch.undo()
    watcher = client.app[keys.PUBLISHED]
    resume, served_then = watcher.resume, []
    assert resume is not None

    async def spy(study: Study) -> object:
        served = changes.deps.studies.get(STUDY)
        served_then.append(served.version if served else None)
        return await resume(study)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(watcher, "resume", spy)
        assert await watcher.check_once()  # the service notices version 2
    # The rest was reached while version 1 was still served, and once more after.
    assert served_then == [1, 2]
    served = changes.deps.studies.get(STUDY)
    assert served is not None
    assert served.version == 2
    again = await changes.resume(served)
    assert again is not None
    assert again.participants == 0  # nobody left: a second sweep reaches no one
    republished = await client.app[keys.PUBLISHING].publish(STUDY, "Research team")
    assert republished.outcome is PublishOutcome.ALREADY_PUBLISHED

    events, messages, statuses = await reached(db)
    assert len(messages) == PEOPLE
    assert set(messages.values()) == {1}
    if reconsent == "required":
        assert len(events) == PEOPLE
        assert set(events.values()) == {1}
        assert statuses == {"reconsent_required": PEOPLE}
    else:
        assert events == Counter()
        assert statuses == {"pending": PEOPLE}
    async with db.read() as session:
        applied = (await session.exec(select(StudyChangeApplied.participant_id))).all()
    assert len(applied) == len(set(applied)) == PEOPLE
    await run_loops()
    texts = [phone.text() for phone in cooling]
    assert all(texts)
