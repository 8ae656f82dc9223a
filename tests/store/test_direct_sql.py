"""direct_sql: prebuilt statements on the driver's connection, stored and read as SQLAlchemy would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import BindParameter

from consentbot import keys
from consentbot.domain.stopping import StopSource
from consentbot.store.database import Database
from consentbot.store.direct_sql import execute
from consentbot.store.statement_forms import bound, prepared_form
from consentbot.store.tables import Contact
from tests.conftest import START, AppClient
from tests.support.query_plans import statements_sent

CONTACT = Contact.__table__  # type: ignore[attr-defined]
ADD = insert(CONTACT)
"""No values of its own: it sets the columns its parameters name."""
STOP = (
    update(CONTACT)
    .where(CONTACT.c.phone_hash == bindparam("hash"))
    .values(stopped=True, stopped_at=bindparam("at"), stopped_by=bindparam("by"))
)
STOPPED = select(CONTACT.c.phone_hash, CONTACT.c.stopped_at, CONTACT.c.stopped_by).where(
    CONTACT.c.phone_hash.in_(bindparam("hashes", expanding=True))
)
LATER = START + timedelta(hours=2, microseconds=123456)


def contact(phone_hash: str) -> dict[str, Any]:
    return {"phone_hash": phone_hash, "phone_encrypted": "sealed", "stopped": False, "created_at": START}


@contextmanager
def through_sqlalchemy(db: Database) -> Iterator[list[str]]:
    """The statements SQLAlchemy's own execute handles (not those run directly)."""
    seen: list[str] = []

    def executed(_conn: Any, clause: Any, *_args: Any) -> None:
        seen.append(str(clause))

    event.listen(db.engine.sync_engine, "before_execute", executed)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_execute", executed)


async def stored_text(db: Database, phone_hash: str) -> tuple[Any, ...]:
    """The row's stored values, as the database holds them (no type conversion)."""
    async with db.read() as session:
        found = await session.exec(  # type: ignore[call-overload]
            text("SELECT stopped_at, stopped_by, created_at FROM contact WHERE phone_hash = :h"),
            params={"h": phone_hash},
        )
        return tuple(found.one())


async def test_a_write_transaction_runs_statements_on_the_driver(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    with through_sqlalchemy(db) as handled, statements_sent(db, "contact") as sent:
        async with db.transaction() as session:
            added = await execute(session, ADD, [contact("direct-1"), contact("direct-2")])
            stopped = await execute(session, STOP, {"hash": "direct-2", "at": LATER, "by": StopSource.SMS})
            read = await execute(session, STOPPED, {"hashes": ["direct-1", "direct-2"]})
    assert stopped.rowcount == 1
    if db.engine.dialect.name == "sqlite":  # asyncpg does not count the rows of several at once
        assert added.rowcount == 2
    # Listeners see every statement either way; SQLAlchemy's execute only those not run here.
    assert [sql.split()[0] for sql, _ in sent] == ["INSERT", "UPDATE", "SELECT"]
    assert [h for h in handled if "contact" in h] == []
    # Values come back through each column's type: aware datetimes, enums.
    assert sorted(read.rows) == [("direct-1", None, None), ("direct-2", LATER, StopSource.SMS)]


async def test_rows_are_stored_exactly_as_sqlalchemy_stores_them(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        await execute(session, ADD, contact("direct-3"))
        await execute(session, STOP, {"hash": "direct-3", "at": LATER, "by": StopSource.WEB})
    async with db.transaction() as session:
        connection = await session.connection()  # SQLAlchemy's own path, for comparison
        await connection.execute(ADD, contact("direct-4"))
        await connection.execute(STOP, {"hash": "direct-4", "at": LATER, "by": StopSource.WEB})
    assert await stored_text(db, "direct-3") == await stored_text(db, "direct-4")


async def test_a_read_on_sqlite_goes_through_sqlalchemy(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        await execute(session, ADD, contact("direct-5"))
    with through_sqlalchemy(db) as handled:
        async with db.read() as session:
            read = await execute(session, STOPPED, {"hashes": ["direct-5"]})
    assert [tuple(row) for row in read.rows] == [("direct-5", None, None)]
    if db.engine.dialect.name == "sqlite":
        assert str(STOPPED) in handled, "a read may be large: it goes to aiosqlite's thread"
    else:
        assert str(STOPPED) not in handled, "asyncpg has no thread: its reads are direct too"


async def test_the_drivers_errors_reach_the_caller_as_sqlalchemys(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        await execute(session, ADD, contact("direct-6"))
    async with db.transaction() as session:
        await execute(session, STOPPED, {"hashes": ["direct-6"]})
        with pytest.raises(IntegrityError) as raised:
            await execute(session, ADD, contact("direct-6"))
        await session.rollback()
    # The engine hides parameters from its errors (they may be message texts): so here.
    assert "direct-6" not in str(raised.value)
    assert "sealed" not in str(raised.value)
    async with db.read() as session:
        count = await session.exec(  # type: ignore[call-overload]
            text("SELECT count(*) FROM contact WHERE phone_hash = 'direct-6'")
        )
        assert count.scalar_one() == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_missing_parameter_is_refused_before_anything_runs(client: AppClient) -> None:
    db = client.app[keys.DATABASE]
    with statements_sent(db, "UPDATE contact") as sent, pytest.raises(Exception, match="'by'"):
        async with db.transaction() as session:
            await execute(session, STOP, {"hash": "direct-7", "at": datetime.now(UTC)})
    assert sent == []


async def test_a_statement_in_a_new_savepoint_is_rolled_back_with_it(client: AppClient) -> None:
    """The savepoint's SAVEPOINT is sent before its first statement, however it is run."""
    db = client.app[keys.DATABASE]
    with through_sqlalchemy(db) as handled, statements_sent(db, "SAVEPOINT") as sent:
        async with db.transaction() as session:
            await execute(session, ADD, contact("direct-8"))
            savepoint = await session.begin_nested()
            await execute(session, ADD, contact("direct-9"))
            await savepoint.rollback()
            await execute(session, ADD, contact("direct-10"))
            async with session.begin_nested():
                await execute(session, STOP, {"hash": "direct-10", "at": LATER, "by": StopSource.SMS})
    assert [sql.split(" sa_")[0] for sql, _ in sent] == [
        "SAVEPOINT",
        "ROLLBACK TO SAVEPOINT",
        "SAVEPOINT",
        "RELEASE SAVEPOINT",
    ]
    if db.engine.dialect.name == "sqlite":
        assert not [h for h in handled if "SAVEPOINT" in h], "sent straight to SQLite, too"
    async with db.read() as session:
        found = await execute(session, STOPPED, {"hashes": ["direct-8", "direct-9", "direct-10"]})
    assert sorted((row[0], row[2]) for row in found.rows) == [
        ("direct-10", StopSource.SMS),
        ("direct-8", None),
    ]


async def test_lists_of_any_length_each_find_their_own_rows(client: AppClient) -> None:
    """The SQL of an ``IN (...)`` differs with the list's length: each length's is its own."""
    db = client.app[keys.DATABASE]
    hashes = [f"direct-in-{n}" for n in range(4)]
    async with db.transaction() as session:
        await execute(session, ADD, [contact(h) for h in hashes])
        for wanted in ([hashes[0]], hashes[1:], [], [hashes[3]], hashes[:2], hashes[2:]):
            found = await execute(session, STOPPED, {"hashes": wanted})
            assert sorted(row[0] for row in found.rows) == sorted(wanted)


async def test_a_statement_derived_from_a_prepared_one_runs_as_itself(client: AppClient) -> None:
    """A derived statement starts as a copy of its parent's attributes, prepared forms
    included: it must run its own SQL, and a list written in the statement itself too."""
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        await execute(session, ADD, [contact("direct-d1"), contact("direct-d2")])
        both = {"hashes": ["direct-d1", "direct-d2"]}
        assert len((await execute(session, STOPPED, both)).rows) == 2
        narrower = STOPPED.where(CONTACT.c.phone_hash == "direct-d2")
        assert [row[0] for row in (await execute(session, narrower, both)).rows] == ["direct-d2"]
        literal = select(CONTACT.c.phone_hash).where(CONTACT.c.phone_hash.in_(["direct-d1"]))
        assert [row[0] for row in (await execute(session, literal, {})).rows] == ["direct-d1"]


SOURCES: BindParameter[Any] = bindparam("sources", value=[StopSource.SMS, StopSource.WEB], expanding=True)
"""A list the statement holds itself, which a caller may still replace."""
STOPPED_FROM = select(CONTACT.c.phone_hash).where(
    CONTACT.c.phone_hash.in_(bindparam("hashes", expanding=True)),
    CONTACT.c.stopped_by.in_(SOURCES),
)
BY_PEOPLE = select(CONTACT.c.phone_hash).where(CONTACT.c.stopped_by.in_([StopSource.SMS, StopSource.WEB]))


async def stop_each_way(db: Database, prefix: str) -> list[str]:
    """Four contacts: stopped by SMS, on the web, by the carrier, and not stopped."""
    hashes = [f"{prefix}-{way}" for way in ("sms", "web", "carrier", "none")]
    async with db.transaction() as session:
        await execute(session, ADD, [contact(h) for h in hashes])
        for phone_hash, by in zip(hashes[:3], (StopSource.SMS, StopSource.WEB, StopSource.CARRIER), strict=True):
            await execute(session, STOP, {"hash": phone_hash, "at": LATER, "by": by})
    return hashes


async def test_a_list_the_statement_holds_is_bound_from_its_form(client: AppClient) -> None:
    """A list written in the statement (its own values, each through the column's type)
    has a fixed length: the statement keeps one form per the caller's lists' lengths, and
    no longer renders its SQL on every execution."""
    db = client.app[keys.DATABASE]
    hashes = await stop_each_way(db, "own")
    async with db.transaction() as session:
        for wanted, expected in ((hashes, hashes[:2]), (hashes[1:], hashes[1:2]), ([], [])):
            found = await execute(session, STOPPED_FROM, {"hashes": wanted})
            assert sorted(row[0] for row in found.rows) == sorted(expected)
        found = await execute(session, BY_PEOPLE, {})
        assert sorted(row[0] for row in found.rows if row[0].startswith("own-")) == hashes[:2]
        sync = (await session.connection()).sync_connection
    assert sync is not None
    for statement in (STOPPED_FROM, BY_PEOPLE):
        prepared = prepared_form(statement, sync.dialect, {})
        assert prepared is not None
        assert prepared.forms, "each length's form is kept"
        assert None not in prepared.forms.values(), "no execution left to SQLAlchemy's steps"
    sql, values = bound(prepared_form(STOPPED_FROM, sync.dialect, {}), {"hashes": ["a"]})  # type: ignore[arg-type]
    assert values == ("a", "sms", "web")
    assert sql.count("?") + sql.count("$") == 3


@pytest.mark.parametrize("replaced_first", [False, True])
async def test_a_caller_may_replace_a_list_the_statement_holds(
    client: AppClient, replaced_first: bool
) -> None:
    """Before or after the statement's own list was used, and with a list of another length:
    the replacement never changes what the statement's own list finds."""
    db = client.app[keys.DATABASE]
    hashes = await stop_each_way(db, f"replaced-{replaced_first}")
    # A statement of its own: whether its first execution replaces the list is the point.
    statement = select(CONTACT.c.phone_hash).where(
        CONTACT.c.phone_hash.in_(bindparam("hashes", expanding=True)),
        CONTACT.c.stopped_by.in_(bindparam("sources", value=[StopSource.SMS, StopSource.WEB], expanding=True)),
    )
    everyone = sorted(hashes[:3])
    runs = [
        ({}, sorted(hashes[:2])),
        ({"sources": [StopSource.SMS, StopSource.WEB, StopSource.CARRIER]}, everyone),
        ({"sources": [StopSource.CARRIER]}, hashes[2:3]),
        ({}, sorted(hashes[:2])),
    ]
    if replaced_first:
        runs = runs[1:] + runs[:1]
    async with db.transaction() as session:
        for extra, expected in runs:
            found = await execute(session, statement, {"hashes": hashes, **extra})
            assert sorted(row[0] for row in found.rows) == expected
