"""loaded_rows: rows read by Core become the session's instances, as a query's would."""

from __future__ import annotations

from sqlalchemy import bindparam, inspect, select
from sqlmodel import select as orm_select

from consentbot import keys
from consentbot.domain.stopping import StopSource
from consentbot.store.loaded_rows import load, table_of
from consentbot.store.tables import Contact
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
