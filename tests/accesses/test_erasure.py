"""Erasing a person keeps the record that their data was used, unlinked from them, and verifiable."""

from __future__ import annotations

from sqlmodel import col, select

from consentbot import keys
from consentbot.services.clock import ManualClock
from consentbot.services.erasure import ErasureService
from consentbot.store.tables import DataAccess, DataAccessParticipant
from tests.accesses.support import active_people, body, record
from tests.conftest import AppClient
from tests.support.journey import STUDY, ResearchSystem
from tests.support.tamper import database, verify_in_process
from tests.support.twilio_fake import FakeTwilio


async def test_erasure_unlinks_the_person_and_keeps_the_record(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    await active_people(client, fake_twilio, clock, research, 2)
    status, data = await record(client, research, body(["P-1", "P-2"]))
    assert status == 201
    inbound = client.app[keys.INBOUND]
    await ErasureService(inbound.deps, inbound.pipeline).erase(STUDY, "P-1")
    async with database(client).read() as session:
        (access,) = (await session.exec(select(DataAccess))).all()
        links = (await session.exec(select(DataAccessParticipant).order_by(col(DataAccessParticipant.id)))).all()
    assert access.id == data["access"]
    assert access.participant_count == 2
    assert [link.nonce is None for link in links] == [True, False]
    assert [link.participant_id is None for link in links] == [True, False]
    assert await verify_in_process(client) == []
    status, data = await record(client, research, body(["P-1"]))
    assert data["refused"] == [{"participant": "P-1", "status": "withdrawn"}]
