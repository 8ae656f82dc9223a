"""Access records are covered by `audit verify` and by checkpoints: an insider's edit is found."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, delete, select

from consentbot import keys
from consentbot.domain.accesses import access_hash
from consentbot.domain.checkpoint import parse
from consentbot.domain.ledger_hash import GENESIS
from consentbot.services.audit import LedgerAudit, LedgerBroken
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.accesses import hashed_access_fields
from consentbot.store.signing_key import signing_key
from consentbot.store.tables import AccessChain, DataAccess, DataAccessParticipant
from tests.accesses.support import active_people, body, record
from tests.conftest import AppClient
from tests.support.journey import STUDY, ResearchSystem
from tests.support.tamper import database, take_checkpoint, verify_in_process
from tests.support.twilio_fake import FakeTwilio


async def two_accesses(client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock) -> ResearchSystem:
    research = await ResearchSystem.register(client)
    await active_people(client, fake_twilio, clock, research, 2)
    assert (await record(client, research, body(["P-1", "P-2"])))[0] == 201
    assert (await record(client, research, body(["P-2"], dataset="Hospital episodes")))[0] == 201
    return research


async def rechain(client: AppClient) -> None:
    """What an insider does after an edit: recompute every hash and the study's head."""
    async with database(client).transaction() as session:
        records = (await session.exec(select(DataAccess).order_by(col(DataAccess.seq)))).all()
        previous = GENESIS
        for seq, access in enumerate(records, 1):
            access.seq, access.prev_hash = seq, previous
            access.hash = previous = access_hash(previous, hashed_access_fields(access))
            session.add(access)
        chain = await session.get(AccessChain, STUDY)
        assert chain is not None
        chain.seq, chain.head = len(records), previous
        session.add(chain)


async def edit_first(client: AppClient, dataset: str) -> None:
    async with database(client).transaction() as session:
        first = (await session.exec(select(DataAccess).where(DataAccess.seq == 1))).one()
        first.dataset = dataset
        session.add(first)


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def verify_against(client: AppClient, settings: Settings, path: Path) -> list[str]:
    key = signing_key(settings.audit_signing_key, settings.data_dir)
    checkpoint = parse(text_of(path), key.public_key())
    report = await LedgerAudit(database(client), client.app[keys.STUDIES]).verify(checkpoint)
    return [str(finding) for finding in report.findings]


async def test_untouched_records_verify(client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock) -> None:
    await two_accesses(client, fake_twilio, clock)
    assert await verify_in_process(client) == []
    report = await LedgerAudit(database(client), client.app[keys.STUDIES]).verify()
    assert report.access_records == 2


async def test_an_edited_record_breaks_the_chain(client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock) -> None:
    await two_accesses(client, fake_twilio, clock)
    await edit_first(client, "Something else")
    [finding] = await verify_in_process(client)
    assert finding.startswith(f"fault: access records of study {STUDY}, record ")
    assert finding.endswith("(seq 1): hash does not match the record's contents: it was altered")


async def test_a_participant_removed_from_a_record_is_found(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await two_accesses(client, fake_twilio, clock)
    async with database(client).transaction() as session:
        link = (await session.exec(select(DataAccessParticipant).order_by(col(DataAccessParticipant.id)))).first()
        assert link is not None
        await session.exec(delete(DataAccessParticipant).where(col(DataAccessParticipant.id) == link.id))
    [finding] = await verify_in_process(client)
    assert finding.endswith("(seq 1): its participants are not the ones recorded: one was added or removed")


async def test_a_rechained_edit_is_found_by_the_checkpoint(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await two_accesses(client, fake_twilio, clock)
    path = await take_checkpoint(client, settings, clock)
    assert '"accesses": [' in text_of(path)
    await edit_first(client, "Something else")
    await rechain(client)
    assert await verify_in_process(client) == []  # the chain alone cannot tell
    [finding] = await verify_against(client, settings, path)
    assert "(seq 1): changed since the checkpoint of 2026-12-02T10:00:00Z; the hashes of 1 later records" in finding
    key = signing_key(settings.audit_signing_key, settings.data_dir)
    previous = parse(text_of(path), key.public_key())
    with pytest.raises(LedgerBroken):  # a new checkpoint never vouches for the rewrite
        await LedgerAudit(database(client), client.app[keys.STUDIES]).checkpoint(key, clock(), extends=previous)


async def test_a_removed_record_is_found_by_the_checkpoint(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await two_accesses(client, fake_twilio, clock)
    path = await take_checkpoint(client, settings, clock)
    async with database(client).transaction() as session:
        last = (await session.exec(select(DataAccess).where(DataAccess.seq == 2))).one()
        await session.exec(delete(DataAccessParticipant).where(col(DataAccessParticipant.access_id) == last.id))
        await session.exec(delete(DataAccess).where(col(DataAccess.id) == last.id))
    await rechain(client)
    assert await verify_in_process(client) == []
    [finding] = await verify_against(client, settings, path)
    assert finding.endswith("(seq 2): removed: it was in the checkpoint of 2026-12-02T10:00:00Z")


async def test_a_checkpoint_from_before_access_records_still_verifies(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    await active_people(client, fake_twilio, clock, research, 1)
    path = await take_checkpoint(client, settings, clock)
    assert "accesses" not in text_of(path)  # signed exactly as before access records existed
    assert (await record(client, research, body(["P-1"])))[0] == 201
    assert await verify_against(client, settings, path) == []
