"""Due timers run a group per transaction; a turn that fails holds up nobody else."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from consentbot import keys
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.timers import TimerKind, TimerStatus
from consentbot.services import timers as timer_module
from consentbot.services import turns
from consentbot.services.participation import Participation
from consentbot.store.tables import OutboxMessage, Participant, Timer
from tests.conftest import AppClient
from tests.support.journey import STUDY, ResearchSystem


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
