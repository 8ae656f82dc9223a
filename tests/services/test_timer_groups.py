"""Due timers run a group per transaction; a turn that fails holds up nobody else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from consentbot import keys
from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.domain.timers import TimerKind, TimerStatus
from consentbot.services import timers as timer_module
from consentbot.services import turns
from consentbot.services.clock import ManualClock
from consentbot.services.participation import Participation
from consentbot.store.outbox import SECRET_MARKER
from consentbot.store.tables import Contact, OutboxMessage, Participant, Timer
from tests.conftest import AppClient
from tests.support.journey import STUDY, ResearchSystem
from tests.support.query_plans import statements_sent


async def invitation_timers(client: AppClient) -> dict[str, TimerStatus]:
    async with client.app[keys.DATABASE].read() as session:
        rows = (
            await session.exec(
                select(Participant.reference, Timer.status)
                .join(Timer, Timer.participant_id == Participant.id)  # type: ignore[arg-type]
                .where(Timer.kind == TimerKind.INVITATION)
            )
        ).all()
    return {reference: TimerStatus(status) for reference, status in rows}


async def invited(client: AppClient) -> set[int | None]:
    async with client.app[keys.DATABASE].read() as session:
        rows = (
            await session.exec(select(OutboxMessage.participant_id).where(OutboxMessage.kind == OutboxKind.INVITATION))
        ).all()
    return set(rows)


async def test_a_failing_turn_in_a_group_is_retried_alone_and_the_rest_go(
    client: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timer_module, "GROUP", 3)
    research = await ResearchSystem.register(client)
    batch = [{"phone": f"+4474009007{n:02d}", "reference": f"G-{n}"} for n in range(7)]
    response = await client.post(
        f"/api/v1/studies/{STUDY}/invitations/batch", json={"invitations": batch}, headers=research.headers
    )
    assert response.status == 202
    assert set((await invitation_timers(client)).values()) == {TimerStatus.PENDING}
    async with client.app[keys.DATABASE].read() as session:
        ids = dict((await session.exec(select(Participant.reference, Participant.id))).all())
    broken = ids["G-4"]  # in the second group of three

    original = turns.apply_turn

    async def apply_turn(session: Any, contacts: Any, who: Participation, *args: Any, **kwargs: Any) -> Any:
        if who.participant_id == broken:
            raise RuntimeError("a bug in one person's turn")
        return await original(session, contacts, who, *args, **kwargs)

    monkeypatch.setattr("consentbot.services.pipeline.apply_turn", apply_turn)
    assert await client.app[keys.TIMERS].run_due() == 6
    statuses = await invitation_timers(client)
    assert statuses.pop("G-4") == TimerStatus.PENDING, "rolled back, to be tried again"
    assert set(statuses.values()) == {TimerStatus.DONE}
    assert await invited(client) == set(ids.values()) - {broken}

    monkeypatch.setattr("consentbot.services.pipeline.apply_turn", original)
    assert await client.app[keys.TIMERS].run_due() == 1
    assert set((await invitation_timers(client)).values()) == {TimerStatus.DONE}
    assert await invited(client) == set(ids.values())


async def invite_later(client: AppClient, count: int) -> dict[str, int]:
    """``count`` invitations stored as timers due now; each reference's participant id."""
    research = await ResearchSystem.register(client)
    batch = [{"phone": f"+4474009008{n:02d}", "reference": f"Q-{n}"} for n in range(count)]
    response = await client.post(
        f"/api/v1/studies/{STUDY}/invitations/batch", json={"invitations": batch}, headers=research.headers
    )
    assert response.status == 202
    async with client.app[keys.DATABASE].read() as session:
        rows = (await session.exec(select(Participant.reference, Participant.id))).all()
    return {reference: participant_id for reference, participant_id in rows if participant_id}


async def test_a_groups_messages_are_queued_by_one_insert_in_the_order_of_its_turns(client: AppClient) -> None:
    ids = await invite_later(client, 5)
    db = client.app[keys.DATABASE]
    with statements_sent(db, "INSERT INTO outbox") as inserts:
        assert await client.app[keys.TIMERS].run_due() == 5
    assert len(inserts) == 1, "one insert for the group, not one per message"
    async with db.read() as session:
        queued = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.INVITATION).order_by(OutboxMessage.id)  # type: ignore[arg-type]
            )
        ).all()
    assert [message.participant_id for message in queued] == [ids[f"Q-{n}"] for n in range(5)]
    for message in queued:
        assert message.status == OutboxStatus.PENDING
        assert message.paced
        assert message.attempts == 0
        # Each personal link is sealed for its own message, never stored in clear.
        assert SECRET_MARKER in message.body
        assert message.secret_encrypted is not None
        assert "/i/" not in message.body
    assert len({message.reference for message in queued}) == 5


async def test_claimed_timers_are_marked_done_or_cancelled_with_the_time(
    client: AppClient, clock: ManualClock
) -> None:
    ids = await invite_later(client, 3)
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        erased = await session.get(Participant, ids["Q-1"])
        assert erased is not None
        erased.erased_at = clock()
        session.add(erased)
    clock.advance(timedelta(minutes=1))
    assert await client.app[keys.TIMERS].run_due() == 2
    async with db.read() as session:
        rows = (
            await session.exec(
                select(Timer.participant_id, Timer.status, Timer.done_at).where(Timer.kind == TimerKind.INVITATION)
            )
        ).all()
    assert {participant: (status, done_at) for participant, status, done_at in rows} == {
        ids["Q-0"]: (TimerStatus.DONE, clock()),
        ids["Q-1"]: (TimerStatus.CANCELLED, clock()),
        ids["Q-2"]: (TimerStatus.DONE, clock()),
    }
    assert await invited(client) == {ids["Q-0"], ids["Q-2"]}
    assert await client.app[keys.TIMERS].run_due() == 0, "a claimed timer is never run twice"


async def test_a_groups_changed_rows_are_written_by_one_statement_per_table(
    client: AppClient, clock: ManualClock
) -> None:
    ids = await invite_later(client, 4)
    db = client.app[keys.DATABASE]
    async with db.read() as session:
        before = dict((await session.exec(select(Participant.id, Participant.conversation))).all())
    clock.advance(timedelta(minutes=1))
    with statements_sent(db, "UPDATE participant") as participants, statements_sent(db, "UPDATE contact") as contacts:
        assert await client.app[keys.TIMERS].run_due() == 4
    assert len(participants) == 1, "one statement for the group's participants, not one each"
    assert len(contacts) == 1, "and one for their numbers"
    async with db.read() as session:
        rows = (
            await session.exec(
                select(Participant.id, Participant.conversation, Participant.updated_at, Contact.prompted_participant_id)
                .join(Contact, Contact.id == Participant.contact_id)  # type: ignore[arg-type]
            )
        ).all()
    assert len(rows) == len(ids) == 4
    for participant_id, conversation, updated_at, prompted in rows:
        assert conversation != before[participant_id], "each person's conversation moved on"
        assert updated_at == clock()
        assert prompted == participant_id, "a bare reply from each number goes to this study"
