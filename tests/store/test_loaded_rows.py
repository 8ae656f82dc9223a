"""loaded_rows: rows read by Core become the session's instances, as a query's would."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, inspect, select
from sqlmodel import select as orm_select

from consentbot import keys
from consentbot.domain.status import ConsentStatus
from consentbot.domain.stopping import StopSource
from consentbot.store.loaded_rows import adopt, load, table_of
from consentbot.store.participants import ParticipantRepository
from consentbot.store.tables import ConsentState, Contact, Participant
from tests.conftest import START, AppClient

TABLE = table_of(Contact)
BY_HASH = select(TABLE).where(TABLE.c.phone_hash == bindparam("hash"))


async def test_a_loaded_row_is_the_sessions_like_a_querys(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        session.add(
            Contact(
                phone_hash="loaded-1",
                phone_encrypted="sealed",
                stopped=True,
                stopped_at=START,
                stopped_by=StopSource.WEB,
                created_at=START,
            )
        )
    async with db.read() as session:
        queried = (await session.exec(orm_select(Contact).where(Contact.phone_hash == "loaded-1"))).one()
        expected = queried.model_dump()
    async with db.transaction() as session:
        (contact,) = await load(session, Contact, BY_HASH, {"hash": "loaded-1"})
        assert contact.model_dump() == expected
        assert inspect(contact).persistent
        assert inspect(contact).session is session.sync_session
        assert contact in session.sync_session
        assert not session.dirty
        assert not inspect(contact).modified
        # Changed like any loaded row: the next load flushes it first and finds the same object.
        contact.prompted_participant_id = 42
        (again,) = await load(session, Contact, BY_HASH, {"hash": "loaded-1"})
        assert again is contact
        queried_too = (await session.exec(orm_select(Contact).where(Contact.id == contact.id))).one()
        assert queried_too is contact
    async with db.read() as session:
        stored = (await session.exec(orm_select(Contact).where(Contact.phone_hash == "loaded-1"))).one()
        assert stored.prompted_participant_id == 42


async def test_a_loaded_row_can_be_deleted_and_leaves_with_its_session(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        session.add(Contact(phone_hash="loaded-2", phone_encrypted="sealed", created_at=START))
    async with db.transaction() as session:
        (contact,) = await load(session, Contact, BY_HASH, {"hash": "loaded-2"})
        await session.delete(contact)
    async with db.transaction() as session:
        assert await load(session, Contact, BY_HASH, {"hash": "loaded-2"}) == []
    assert inspect(contact).detached, "deleted and committed: no longer the session's"


async def test_nothing_found_loads_nothing(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        assert await load(session, Contact, BY_HASH, {"hash": "nobody"}) == []
        assert not session.identity_map


async def test_a_row_of_the_wrong_width_is_refused_and_adopts_nothing(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    width = len(TABLE.columns)
    async with db.transaction() as session:
        with pytest.raises(ValueError, match=f"Contact: {width - 1} values for {width} columns"):
            adopt(session, Contact, (1,) * (width - 1))
        assert not session.identity_map


async def test_a_participants_consent_is_read_as_statuses(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        contact = Contact(phone_hash="loaded-3", phone_encrypted="sealed", created_at=START)
        session.add(contact)
        await session.flush()
        assert contact.id is not None
        participant = Participant(
            study_id="s",
            reference="R-3",
            contact_id=contact.id,
            language="en",
            content_version=1,
            created_at=START,
            updated_at=START,
        )
        session.add(participant)
        await session.flush()
        assert participant.id is not None
        for purpose, status in (("a", "pending"), ("b", "withdrawn")):
            session.add(
                ConsentState(
                    participant_id=participant.id,
                    purpose_id=purpose,
                    status=status,
                    since=START,
                    content_version=1,
                    language="en",
                )
            )
    async with db.transaction() as session:
        consent = await ParticipantRepository(session).consent_of([participant.id])
    statuses = {purpose: each.status for purpose, each in consent[participant.id].items()}
    assert statuses == {"a": ConsentStatus.PENDING, "b": ConsentStatus.WITHDRAWN}
    assert all(type(status) is ConsentStatus for status in statuses.values())
