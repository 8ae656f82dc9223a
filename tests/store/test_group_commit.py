"""Group commit: callers share a SQLite transaction, each all-or-nothing in its savepoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.database import Database
from consentbot.store.group_commit import GroupCommit

Work = Callable[[AsyncSession], Awaitable[Any]]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'group.db'}")
    async with database.transaction() as session:
        await session.exec(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))  # type: ignore[call-overload]
        # Checked at COMMIT, not at the insert: lets a test make a group's commit fail.
        await session.exec(
            text(  # type: ignore[call-overload]
                "CREATE TABLE note (id INTEGER PRIMARY KEY, who TEXT NOT NULL UNIQUE,"
                " parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    yield database
    await database.dispose()


def begins(db: Database) -> list[str]:
    """Every BEGIN the engine sends from now on."""
    seen: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN"):
            seen.append(statement)

    return seen


def note(who: str, parent_id: int | None = None) -> Work:
    async def work(session: AsyncSession) -> str:
        await session.exec(
            text("INSERT INTO note (who, parent_id) VALUES (:who, :parent)"),  # type: ignore[call-overload]
            params={"who": who, "parent": parent_id},
        )
        return who

    return work


async def notes(db: Database) -> list[str]:
    async with db.read() as session:
        rows = await session.exec(text("SELECT who FROM note ORDER BY id"))  # type: ignore[call-overload]
        return [who for (who,) in rows]


async def test_callers_arriving_together_share_one_transaction(db: Database) -> None:
    seen = begins(db)
    results = await asyncio.gather(*(db.grouped(note(f"n{i}")) for i in range(10)))
    assert results == [f"n{i}" for i in range(10)]
    assert seen == ["BEGIN IMMEDIATE"]
    assert await notes(db) == [f"n{i}" for i in range(10)]


async def test_a_caller_that_fails_rolls_back_alone(db: Database) -> None:
    async def half_then_fail(session: AsyncSession) -> None:
        await note("failed-half")(session)
        raise RuntimeError("turn failed")

    async def duplicate(session: AsyncSession) -> None:
        await note("a")(session)  # violates UNIQUE: "a" is in the group already

    outcomes = await asyncio.gather(
        db.grouped(note("a")),
        db.grouped(half_then_fail),
        db.grouped(duplicate),
        db.grouped(note("b")),
        return_exceptions=True,
    )
    assert outcomes[0] == "a"
    assert isinstance(outcomes[1], RuntimeError)
    assert "UNIQUE" in str(outcomes[2])
    assert outcomes[3] == "b"
    assert await notes(db) == ["a", "b"]


async def test_nobody_hears_of_success_when_the_commit_fails(db: Database) -> None:
    # The dangling reference is only checked at COMMIT, which fails for the whole group.
    outcomes = await asyncio.gather(
        db.grouped(note("first")),
        db.grouped(note("dangling", parent_id=999)),
        return_exceptions=True,
    )
    assert all("FOREIGN KEY" in str(outcome) for outcome in outcomes)
    assert await notes(db) == []
    # The next group starts afresh.
    assert await db.grouped(note("after")) == "after"
    assert await notes(db) == ["after"]


async def test_a_later_caller_sees_what_an_earlier_one_wrote(db: Database) -> None:
    async def count(session: AsyncSession) -> int:
        (n,) = (await session.exec(text("SELECT count(*) FROM note"))).one()  # type: ignore[call-overload]
        return int(n)

    outcomes: list[object] = list(
        await asyncio.gather(
            db.grouped(note("x")), db.grouped(count), db.grouped(note("y")), db.grouped(count)
        )
    )
    assert outcomes == ["x", 1, "y", 2]


async def test_groups_are_bounded(db: Database) -> None:
    group = GroupCommit(db.transaction, max_group=2)
    seen = begins(db)
    results = await asyncio.gather(*(group.run(note(f"n{i}")) for i in range(5)))
    assert results == [f"n{i}" for i in range(5)]
    assert seen == ["BEGIN IMMEDIATE"] * 3  # 2 + 2 + 1
    assert await notes(db) == [f"n{i}" for i in range(5)]


async def test_a_caller_cancelled_before_its_turn_is_skipped(db: Database) -> None:
    first = asyncio.create_task(db.grouped(note("kept")))
    gone = asyncio.create_task(db.grouped(note("gone")))
    await asyncio.sleep(0)  # both queued; the group has not started
    gone.cancel()
    assert await first == "kept"
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await notes(db) == ["kept"]


async def test_a_rollback_drops_caches_but_keeps_earlier_flags(db: Database) -> None:
    seen: list[dict[str, Any]] = []

    async def flag(session: AsyncSession) -> None:
        session.info["flag.earlier"] = True
        session.info["cache"] = {"row": 1}

    async def fail(session: AsyncSession) -> None:
        session.info["flag.failed"] = True
        session.info["cache"]["row"] = 2
        raise RuntimeError("rolled back")

    async def look(session: AsyncSession) -> None:
        seen.append(dict(session.info))

    await asyncio.gather(
        db.grouped(flag), db.grouped(fail), db.grouped(look), return_exceptions=True
    )
    assert seen == [{"flag.earlier": True}]


async def test_on_commit_callbacks_run_once_the_group_commits(db: Database) -> None:
    calls: list[str] = []
    db.on_commit("tests.flag", lambda: calls.append("woken"))

    async def flagged(session: AsyncSession) -> None:
        session.info["tests.flag"] = True

    await asyncio.gather(db.grouped(flagged), db.grouped(note("n")))
    assert calls == ["woken"]


async def test_stopping_cancels_whoever_is_still_queued(db: Database) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(session: AsyncSession) -> None:
        started.set()
        await release.wait()

    group = GroupCommit(db.transaction, max_group=1)
    running = asyncio.create_task(group.run(slow))
    queued = asyncio.create_task(group.run(note("never")))
    await started.wait()
    assert group._runner is not None
    group._runner.cancel()
    for task in (running, queued):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await notes(db) == []


async def test_postgresql_gives_each_caller_a_transaction_of_its_own(
    database_url: str,
) -> None:
    database = Database(database_url)
    try:
        if database.is_sqlite:
            assert database.group is not None
            return
        assert database.group is None

        async def transaction_id(session: AsyncSession) -> int:
            (txid,) = (await session.exec(text("SELECT txid_current()"))).one()  # type: ignore[call-overload]
            return int(txid)

        ids = await asyncio.gather(*(database.grouped(transaction_id) for _ in range(3)))
        assert len(set(ids)) == 3
    finally:
        await database.dispose()


async def test_a_transaction_that_cannot_start_fails_its_callers_once(db: Database) -> None:
    attempts: list[int] = []

    @asynccontextmanager
    async def unavailable() -> AsyncIterator[AsyncSession]:
        attempts.append(1)
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        yield  # pragma: no cover

    group = GroupCommit(unavailable, max_group=2)
    async with asyncio.timeout(5):  # retried without end, the callers would wait for ever
        outcomes = await asyncio.gather(
            *(group.run(note(f"n{i}")) for i in range(3)), return_exceptions=True
        )
    assert all(isinstance(outcome, OperationalError) for outcome in outcomes)
    assert len(attempts) == 2  # one per group of two, never retried
    assert group.waiting == 0
