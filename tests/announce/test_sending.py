"""Sending an announcement: only to active ``updates``, in each person's language, never to a
stopped or erased number, held in quiet hours, and resumed without sending anyone it twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from consentbot.content.live import LiveCatalogue
from consentbot.content.model import StudyCatalogue
from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.domain.status import ConsentStatus
from consentbot.services.announcement_file import AnnouncementFile
from consentbot.services.announcements import (
    AnnouncementPlan,
    AnnouncementService,
    NoUpdatesPurpose,
)
from consentbot.services.clock import ManualClock
from consentbot.services.erasure import ErasureService
from consentbot.services.errors import UnknownStudy
from consentbot.services.pipeline import TurnPipeline
from consentbot.store.outbox import OutboxRepository, PlannedMessage
from consentbot.store.tables import AnnouncementRecipient, ConsentState, OutboxMessage
from tests.announce.conftest import Study
from tests.announce.seed import TEXTS, people
from tests.conftest import settle
from tests.support.journey import STUDY
from tests.support.twilio_fake import FakeTwilio

ACTIVE, WITHDRAWN, DECLINED, PENDING = (
    ConsentStatus.ACTIVE,
    ConsentStatus.WITHDRAWN,
    ConsentStatus.DECLINED,
    ConsentStatus.PENDING,
)
FILE = AnnouncementFile("results-2027-01", TEXTS)


async def send_all(service: AnnouncementService, plan: AnnouncementPlan, group: int = 100) -> int:
    announcement = await service.start(plan)
    while (await service.queue_group(plan, announcement, group)).looked_at:
        pass
    return announcement


async def announcements_to(study: Study) -> dict[int, list[OutboxMessage]]:
    async with study.db.read() as session:
        rows = (
            await session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.kind == OutboxKind.ANNOUNCEMENT)
                .order_by(col(OutboxMessage.id))
            )
        ).all()
    found: dict[int, list[OutboxMessage]] = {}
    for row in rows:
        found.setdefault(row.participant_id or 0, []).append(row)
    return found


async def test_only_active_updates_get_it_in_their_language_and_a_stopped_number_nothing(
    study: Study, announcements: AnnouncementService, fake_twilio: FakeTwilio
) -> None:
    persons = people(
        ("en", ACTIVE), ("cy", ACTIVE), ("pl", ACTIVE), ("ur", ACTIVE),
        ("en", WITHDRAWN), ("en", DECLINED), ("pl", PENDING), ("cy", None),
        ("en", ACTIVE),
        stopped=[8],
    )
    ids = await study.add(persons)
    before = len(fake_twilio.accepted)

    plan = await announcements.plan(STUDY, FILE)
    assert plan.problems == ()
    assert plan.to_queue == Counter({"en": 2, "cy": 1, "pl": 1, "ur": 1})
    assert plan.stopped == Counter({"en": 1})
    announcement = await send_all(announcements, plan)
    await settle(study.client.app)

    sent = fake_twilio.accepted[before:]
    assert sorted(message.to for message in sent) == [person.phone for person in persons[:4]]
    for person in persons[:4]:
        (body,) = [message.body for message in sent if message.to == person.phone]
        assert TEXTS[person.language] in body
    (english,) = [message.body for message in sent if message.to == persons[0].phone]
    assert english == (
        "News from Northern Pennines Joint Health Records:\n"
        f"{TEXTS['en']}\n\nReply STOP for no more texts."
    )
    (welsh,) = [message.body for message in sent if message.to == persons[1].phone]
    assert welsh.endswith("Atebwch STOP i atal y negeseuon.")
    queued = await announcements_to(study)
    assert set(queued) == {ids[person.reference] for person in (*persons[:4], persons[8])}
    assert [m.status for m in queued[ids["A-008"]]] == [OutboxStatus.SUPPRESSED]
    outcomes = await announcements.outcomes(announcement)
    assert outcomes == Counter({OutboxStatus.SENT: 4, OutboxStatus.SUPPRESSED: 1})


async def test_a_resumed_run_skips_those_already_queued_and_nobody_gets_it_twice(
    study: Study,
    announcements: AnnouncementService,
    fake_twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    persons = people(*[("en", ACTIVE)] * 7)
    await study.add(persons)
    before = len(fake_twilio.accepted)
    plan = await announcements.plan(STUDY, FILE)
    announcement = await announcements.start(plan)

    # The third group fails part way (the database went away, a kill): it is rolled back whole.
    add = OutboxRepository.add
    calls = Counter[str]()

    async def failing_add(self: OutboxRepository, rows: Sequence[PlannedMessage]) -> list[int]:
        calls["add"] += 1
        if calls["add"] == 6:
            raise ConnectionError("the database went away")
        return await add(self, rows)

    monkeypatch.setattr(OutboxRepository, "add", failing_add)
    assert (await announcements.queue_group(plan, announcement, 2)).queued == 2
    await settle(study.client.app)  # the first group is sent while the run goes on
    assert (await announcements.queue_group(plan, announcement, 2)).queued == 2
    with pytest.raises(ConnectionError):
        await announcements.queue_group(plan, announcement, 2)
    monkeypatch.setattr(OutboxRepository, "add", add)
    async with study.db.read() as session:
        recorded = (await session.exec(select(func.count()).select_from(AnnouncementRecipient))).one()
    assert recorded == 4, "the failed group left nothing half-written"

    again = await announcements.plan(STUDY, FILE)
    assert again.announcement_id == announcement
    assert again.already_queued == 4
    assert again.to_queue == Counter({"en": 3})
    assert await send_all(announcements, again) == announcement
    await settle(study.client.app)

    received = Counter(message.to for message in fake_twilio.accepted[before:])
    assert received == Counter({person.phone: 1 for person in persons})
    assert all(len(messages) == 1 for messages in (await announcements_to(study)).values())
    done = await announcements.plan(STUDY, FILE)
    assert (done.already_queued, sum(done.to_queue.values())) == (7, 0)


async def test_changed_texts_under_the_same_id_are_refused(
    study: Study, announcements: AnnouncementService
) -> None:
    await study.add(people(("en", ACTIVE)))
    await send_all(announcements, await announcements.plan(STUDY, FILE))
    changed = AnnouncementFile(FILE.id, {**TEXTS, "en": "Different words."})
    plan = await announcements.plan(STUDY, changed)
    assert [problem.field for problem in plan.problems] == ["texts"]
    assert "Give changed texts a new id" in plan.problems[0].error
    with pytest.raises(ValueError, match="problems"):
        await announcements.start(plan)
    # Under a new id it is a new announcement, sent to everyone again.
    other = await announcements.plan(STUDY, AnnouncementFile("results-2027-02", changed.texts))
    assert (other.problems, other.to_queue) == ((), Counter({"en": 1}))


async def test_quiet_hours_hold_it_until_the_morning_in_the_study_time_zone(
    study: Study,
    announcements: AnnouncementService,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    await study.add(people(("en", ACTIVE), ("ur", ACTIVE)))
    before = len(fake_twilio.accepted)
    # 22:30 in London (GMT in December): inside the study's quiet hours, 21:00-08:00.
    clock.advance(datetime(2026, 12, 1, 22, 30, tzinfo=UTC) - clock())
    await send_all(announcements, await announcements.plan(STUDY, FILE))
    await settle(study.client.app)
    assert fake_twilio.accepted[before:] == []
    held = [m for messages in (await announcements_to(study)).values() for m in messages]
    assert {(m.status, m.send_after) for m in held} == {
        (OutboxStatus.PENDING, datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    }

    clock.advance(timedelta(hours=9, minutes=29))  # 07:59
    await settle(study.client.app)
    assert fake_twilio.accepted[before:] == []
    clock.advance(timedelta(minutes=1))
    await settle(study.client.app)
    assert len(fake_twilio.accepted[before:]) == 2


async def test_withdrawing_updates_before_it_goes_means_it_never_goes(
    study: Study,
    announcements: AnnouncementService,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    ids = await study.add(people(("en", ACTIVE), ("en", ACTIVE)))
    before = len(fake_twilio.accepted)
    clock.advance(datetime(2026, 12, 1, 23, 0, tzinfo=UTC) - clock())
    await send_all(announcements, await announcements.plan(STUDY, FILE))
    async with study.db.transaction() as session:
        state = await session.get(ConsentState, (ids["A-001"], "updates"))
        assert state is not None
        state.status = ConsentStatus.WITHDRAWN.value
        session.add(state)
    clock.advance(timedelta(hours=10))
    await settle(study.client.app)
    assert [message.to for message in fake_twilio.accepted[before:]] == ["+447400900000"]
    queued = await announcements_to(study)
    assert [m.status for m in queued[ids["A-001"]]] == [OutboxStatus.NOT_WANTED]


async def test_a_participant_erased_on_request_is_never_sent_it(
    study: Study, announcements: AnnouncementService, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    persons = people(("en", ACTIVE), ("en", ACTIVE), ("en", ACTIVE))
    await study.add(persons)
    before = len(fake_twilio.accepted)
    deps = announcements.deps
    erasure = ErasureService(deps, TurnPipeline(deps))
    await erasure.erase(STUDY, "A-001")
    clock.advance(datetime(2026, 12, 1, 23, 0, tzinfo=UTC) - clock())
    plan = await announcements.plan(STUDY, FILE)
    assert plan.to_queue == Counter({"en": 2})
    await send_all(announcements, plan)
    await erasure.erase(STUDY, "A-002")  # while it waits for the morning
    clock.advance(timedelta(hours=10))
    await settle(study.client.app)
    assert [message.to for message in fake_twilio.accepted[before:]] == [persons[0].phone]


async def test_a_study_without_an_updates_purpose_is_refused(
    announcements: AnnouncementService,
) -> None:
    deps = announcements.deps
    served = deps.studies.get(STUDY)
    assert served is not None
    without = replace(served, purposes=tuple(p for p in served.purposes if p.id != "updates"))
    service = AnnouncementService(
        replace(deps, studies=LiveCatalogue(StudyCatalogue({STUDY: without})))
    )
    with pytest.raises(NoUpdatesPurpose, match="has no 'updates' purpose: nobody has agreed"):
        await service.plan(STUDY, FILE)
    with pytest.raises(UnknownStudy):
        await announcements.plan("no-such-study", FILE)
