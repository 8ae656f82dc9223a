"""POST /api/v1/studies/{study}/invitations/batch: all or none, durable before 202."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, func, select

from consentbot import keys
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.timers import TimerKind, TimerStatus
from consentbot.services.clock import ManualClock
from consentbot.store.tables import OutboxMessage, Participant, Timer
from tests.conftest import AppClient
from tests.support.journey import STUDY, ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

BATCH = f"/api/v1/studies/{STUDY}/invitations/batch"


async def post(client: AppClient, research: ResearchSystem, body: Any) -> tuple[int, Any]:
    response = await client.post(BATCH, json=body, headers=research.headers)
    return response.status, await response.json()


async def stored(client: AppClient) -> tuple[int, int]:
    """How many participants and outbox messages the database holds."""
    async with client.app[keys.DATABASE].read() as session:
        participants = (await session.exec(select(func.count()).select_from(Participant))).one()
        messages = (await session.exec(select(func.count()).select_from(OutboxMessage))).one()
    return participants, messages


async def test_any_bad_row_rejects_the_batch_naming_every_one_and_stores_nothing(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    await research.invite("+447400900501", "B-0")  # already in the study
    before = await stored(client)
    invitations: list[Any] = [
        {"phone": "+447400900511", "reference": "B-1"},
        {"phone": "12", "reference": "B-2"},
        {"phone": "+447400900513", "reference": "B-1"},
        {"phone": "+447400900511", "reference": "B-4"},
        {"phone": "+447400900515", "reference": "B-5", "language": "fr"},
        {"phone": "+447400900516", "reference": "B-6", "lang": "pl"},
        "B-7",
        {"phone": "+447400900518", "reference": "B-0"},
        {"phone": "+447400900501", "reference": "B-9"},
        {"phone": "+447400900520", "reference": ""},
        {"phone": "01614960000", "reference": "B-11"},
    ]
    status, body = await post(client, research, {"invitations": invitations})
    assert status == 422
    assert body == {
        "rejected": [
            {"index": 1, "field": "phone", "error": "is not a possible phone number (check the number of digits)"},
            {"index": 2, "field": "reference", "error": "the same as invitation 0"},
            {"index": 3, "field": "phone", "error": "the same number as invitation 0"},
            {"index": 4, "field": "language", "error": "'fr' is not offered by this study (it offers en, cy, pl, ur)"},
            {"index": 5, "field": "lang", "error": "is not a known field"},
            {"index": 6, "field": None, "error": "must be a JSON object"},
            {"index": 7, "field": "reference", "error": "is already used in this study for a different phone number"},
            {"index": 8, "field": "phone", "error": "this number is already in the study as B-0"},
            {"index": 9, "field": "reference", "error": "must be 1 to 100 characters"},
            {"index": 10, "field": "phone", "error": "is not a mobile number (we can only text mobiles)"},
        ]
    }
    assert await stored(client) == before
    assert "+44" not in str(body)


async def test_a_good_batch_is_stored_before_202_and_a_repeat_accepts_nobody_again(
    client: AppClient, fake_twilio: FakeTwilio, run_loops: Any, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    stopper = TwilioPhone(client, fake_twilio, "+447400900532")
    await stopper.send("STOP")
    numbers = [f"+4474009005{n:02d}" for n in range(30, 34)]
    invitations = [{"phone": number, "reference": f"C-{i}"} for i, number in enumerate(numbers)]
    invitations[1]["language"] = "pl"
    status, body = await post(client, research, {"invitations": invitations})
    assert (status, body) == (202, {"accepted": 4, "already_invited": 0})
    async with client.app[keys.DATABASE].read() as session:
        due = (await session.exec(select(Timer).where(Timer.kind == TimerKind.INVITATION))).all()
        queued = (await session.exec(select(OutboxMessage))).all()
        languages = dict((await session.exec(select(Participant.reference, Participant.language))).all())
    # Durable before 202, not yet sent: each person is stored with their invitation due now,
    # which the scheduler runs through the turn pipeline.
    assert {timer.status for timer in due} == {TimerStatus.PENDING}
    assert len({timer.participant_id for timer in due}) == 4
    assert all(timer.due_at <= clock() for timer in due)
    assert not [message for message in queued if message.kind == OutboxKind.INVITATION]
    assert languages == {"C-0": "en", "C-1": "pl", "C-2": "en", "C-3": "en"}

    again = await post(client, research, {"invitations": invitations})
    assert again == (202, {"accepted": 0, "already_invited": 4})
    more = [*invitations, {"phone": "+447400900534", "reference": "C-4"}]
    assert await post(client, research, {"invitations": more}) == (202, {"accepted": 1, "already_invited": 4})

    await run_loops()
    for number in [*numbers, "+447400900534"]:
        received = fake_twilio.inbox[number][1:] if number == stopper.number else fake_twilio.inbox[number]
        expected = 0 if number == stopper.number else 1
        assert len([text for text in received if "JOINTS" in text or "/i/" in text]) == expected, number
    async with client.app[keys.DATABASE].read() as session:
        statuses = (
            await session.exec(
                select(OutboxMessage.status).where(OutboxMessage.kind == "invitation").order_by(col(OutboxMessage.id))
            )
        ).all()
    assert "suppressed" in statuses  # the STOPped number: recorded, not sent
    assert set(statuses) <= {"sent", "suppressed"}


async def test_batch_size_and_shape(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    too_many = [{"phone": "+447400900001", "reference": f"T-{i}"} for i in range(10_001)]
    status, body = await post(client, research, {"invitations": too_many})
    assert status == 413
    assert body["error"].startswith("invitations: at most 10,000 in one request, not 10,001")
    malformed: list[Any] = [{"invitations": []}, {"invitations": {}}, {}, []]
    for bad in malformed:
        status, body = await post(client, research, bad)
        assert status == 422, bad
    status, body = await post(client, research, {"invitations": [], "dry_run": True})
    assert (status, body["field"]) == (422, "dry_run")
    assert await stored(client) == (0, 0)


async def test_the_batch_needs_the_study_token(client: AppClient) -> None:
    response = await client.post(BATCH, json={"invitations": [{"phone": "+447400900001", "reference": "X"}]})
    assert response.status == 401
    research = await ResearchSystem.register(client)
    response = await client.post(
        "/api/v1/studies/other-study/invitations/batch", json={"invitations": []}, headers=research.headers
    )
    assert response.status == 403


async def test_the_largest_batch_is_stored_at_once(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    invitations = [{"phone": f"+4474{n:08d}", "reference": f"L-{n}"} for n in range(10_000)]
    assert await post(client, research, {"invitations": invitations}) == (
        202, {"accepted": 10_000, "already_invited": 0}
    )
    async with client.app[keys.DATABASE].read() as session:
        due = (
            await session.exec(
                select(func.count()).select_from(Timer).where(
                    Timer.kind == TimerKind.INVITATION, Timer.status == TimerStatus.PENDING
                )
            )
        ).one()
    assert await stored(client) == (10_000, 0)
    assert due == 10_000
    assert await post(client, research, {"invitations": invitations}) == (
        202, {"accepted": 0, "already_invited": 10_000}
    )
