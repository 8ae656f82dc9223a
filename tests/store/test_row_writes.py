"""write_changes: a loaded row's changes written by one UPDATE, leaving the flush nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot import keys
from consentbot.domain.stopping import StopSource
from consentbot.store.database import Database
from consentbot.store.row_writes import write_changes
from consentbot.store.tables import Contact
from tests.conftest import START, AppClient
from tests.support.query_plans import statements_sent


async def stored(db: Database, phone_hash: str) -> Contact:
    async with db.read() as session:
        found = (await session.exec(select(Contact).where(Contact.phone_hash == phone_hash))).one()
        return found


async def add_contact(db: Database, phone_hash: str) -> None:
    async with db.transaction() as session:
        session.add(Contact(phone_hash=phone_hash, phone_encrypted="sealed", created_at=START))


async def test_one_update_of_the_changed_columns_and_nothing_left_to_flush(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    await add_contact(db, "row-writes-1")
    with statements_sent(db, "UPDATE contact") as updates:
        async with db.transaction() as session:
            contact = (await session.exec(select(Contact).where(Contact.phone_hash == "row-writes-1"))).one()
            contact.stopped = True
            contact.stopped_at = START + timedelta(hours=1)
            contact.stopped_by = StopSource.SMS
            await write_changes(session, contact)
            assert len(updates) == 1
            assert not session.dirty, "the row is clean: the commit's flush sends nothing more"
            assert contact.stopped_by is StopSource.SMS, "the row keeps its new values"
    assert len(updates) == 1
    sql, _ = updates[0]
    assert all(f"{name}=" in sql for name in ("stopped", "stopped_at", "stopped_by"))
    assert not any(name in sql for name in ("phone_encrypted", "prompted_participant_id"))
    again = await stored(db, "row-writes-1")
    assert (again.stopped, again.stopped_at, again.stopped_by) == (
        True,
        START + timedelta(hours=1),
        StopSource.SMS,
    )


async def test_a_value_set_to_what_it_was_writes_nothing(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    await add_contact(db, "row-writes-2")
    with statements_sent(db, "UPDATE contact") as updates:
        async with db.transaction() as session:
            contact = (await session.exec(select(Contact).where(Contact.phone_hash == "row-writes-2"))).one()
            contact.stopped = False
            contact.prompted_participant_id = None
            await write_changes(session, contact)
            assert not session.dirty
    assert updates == []


async def test_a_change_after_the_write_is_still_flushed(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    await add_contact(db, "row-writes-3")
    async with db.transaction() as session:
        contact = (await session.exec(select(Contact).where(Contact.phone_hash == "row-writes-3"))).one()
        contact.prompted_participant_id = 7
        await write_changes(session, contact)
        contact.stopped = True
        assert session.dirty
    again = await stored(db, "row-writes-3")
    assert (again.prompted_participant_id, again.stopped) == (7, True)


async def test_a_row_still_to_be_inserted_is_left_to_the_flush(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    with statements_sent(db, "UPDATE contact") as updates:
        async with db.transaction() as session:
            contact = Contact(phone_hash="row-writes-4", phone_encrypted="sealed", created_at=START)
            session.add(contact)
            await write_changes(session, contact)
            assert contact in session.new
    assert updates == []
    assert (await stored(db, "row-writes-4")).phone_encrypted == "sealed"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_grouped_caller_that_fails_leaves_no_stale_row_for_the_next(client: AppClient) -> None:
    """The row a failed caller wrote is rolled back with its savepoint; a later caller in the
    same group must load what the database holds, not the failed caller's values."""
    db = client.app[keys.DATABASE]
    await add_contact(db, "row-writes-5")

    async def load(session: AsyncSession) -> Contact:
        statement = select(Contact).where(Contact.phone_hash == "row-writes-5")
        return (await session.exec(statement)).one()

    async def fails(session: AsyncSession) -> None:
        contact = await load(session)
        contact.prompted_participant_id = 99
        await write_changes(session, contact)
        raise RuntimeError("the turn failed after its write")

    async def reads(session: AsyncSession) -> int | None:
        return (await load(session)).prompted_participant_id

    failed, seen = await asyncio.gather(
        db.grouped(fails), db.grouped(reads), return_exceptions=True
    )
    assert isinstance(failed, RuntimeError)
    assert seen is None
    assert (await stored(db, "row-writes-5")).prompted_participant_id is None
