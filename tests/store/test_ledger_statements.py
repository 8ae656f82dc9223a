"""The ledger reads a participant's consent rows once per turn, however many purposes change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import select

from consentbot import keys
from consentbot.domain.status import ConsentStatus
from consentbot.services.clock import ManualClock
from consentbot.store.tables import ConsentState
from tests.conftest import AppClient
from tests.support.journey import ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone


async def test_a_confirm_of_three_purposes_reads_their_rows_once_and_updates_each(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900311")
    await research.invite(phone.number, "S-1")
    for answer in ["YES", "YES", "YES", "NO", "NO", "YES"]:
        await phone.send(answer)
    clock.advance(timedelta(days=1))

    reads: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM consent_state" in statement:
            reads.append(statement)

    engine = client.app[keys.DATABASE].engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        await phone.send("CONFIRM")
    finally:
        event.remove(engine, "before_cursor_execute", capture)

    # One read when the turn loads the person (plain values), one when the ledger first
    # changes a row: not one per purpose confirmed.
    assert len(reads) == 2, reads
    async with client.app[keys.DATABASE].read() as session:
        statuses = (await session.exec(select(ConsentState.status))).all()
    assert sorted(statuses) == sorted(
        [ConsentStatus.ACTIVE.value] * 3 + [ConsentStatus.DECLINED.value] * 2
    )
