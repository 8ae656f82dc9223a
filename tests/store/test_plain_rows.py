"""plain_rows: Core reads on the session's connection that still see the transaction's own writes."""

from __future__ import annotations

from sqlmodel import col, select

from consentbot import keys
from consentbot.store.plain_rows import plain_rows
from consentbot.store.tables import Contact
from tests.conftest import START, AppClient

HASHES = select(col(Contact.phone_hash)).where(col(Contact.phone_hash).like("plain-rows-%"))


async def test_rows_include_what_the_transaction_added_and_not_yet_flushed(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        session.add(Contact(phone_hash="plain-rows-1", phone_encrypted="x", created_at=START))
        assert session.new, "still pending: only plain_rows' flush can make the read see it"
        assert await plain_rows(session, HASHES, {}) == [("plain-rows-1",)]
    async with db.read() as session:
        assert await plain_rows(session, HASHES, {}) == [("plain-rows-1",)]


async def test_rows_are_plain_tuples_the_session_does_not_track(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        session.add(Contact(phone_hash="plain-rows-2", phone_encrypted="x", created_at=START))
    async with db.read() as session:
        rows = await plain_rows(session, select(Contact).where(Contact.phone_hash == "plain-rows-2"), {})
        assert [row[1] for row in rows] == ["plain-rows-2"], "the table's columns, in order"
        assert not session.identity_map, "a plain read loads no object into the session"
