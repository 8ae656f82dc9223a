"""/healthz says the process is alive; /readyz that its database answers and is migrated."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta

import pytest
from sqlalchemy import text

from consentbot import keys
from consentbot.services.clock import ManualClock
from consentbot.services.readiness import FRESH_FOR
from consentbot.store.schema_version import code_head
from tests.conftest import AppClient, WebClientFactory
from tests.operations.scrape import parse, value
from tests.support.databases import SQLITE_ONLY
from tests.support.outage import Outage
from tests.support.query_plans import statements_sent

TOKEN = "metrics-token-0123456789abcdef"


async def test_ready_when_the_database_answers_at_the_code_s_migration(client: AppClient) -> None:
    alive = await client.get("/healthz")
    assert alive.status == 200
    assert await alive.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {
        "status": "ready",
        "database_revision": code_head(),
        "code_revision": code_head(),
    }


async def test_not_ready_while_migrations_are_behind(client: AppClient, clock: ManualClock) -> None:
    """As after deploying new code before `consentbot db upgrade` ran."""
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        connection = await session.connection()
        await connection.execute(text("UPDATE alembic_version SET version_num = '0019'"))
    try:
        behind = await client.get("/readyz")
        assert behind.status == 503
        body = await behind.json()
        assert body["status"] == "not ready"
        assert body["database_revision"] == "0019"
        assert body["code_revision"] == code_head()
        assert "consentbot db upgrade" in body["reason"]
        assert (await client.get("/healthz")).status == 200  # alive all the same
        # Rolled back to older code than the database's: upgrading would not help.
        async with db.transaction() as session:
            connection = await session.connection()
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        clock.advance(FRESH_FOR)
        ahead = await client.get("/readyz")
        assert ahead.status == 503
        assert (await ahead.json())["reason"] == "database was migrated by newer code than this"
    finally:
        async with db.transaction() as session:
            connection = await session.connection()
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": code_head()}
            )
    clock.advance(FRESH_FOR)
    assert (await client.get("/readyz")).status == 200


async def test_without_its_database_the_process_is_alive_not_ready_and_still_scraped(
    outage: Outage, clock: ManualClock
) -> None:
    client = outage.client
    await outage.begin()
    try:
        assert (await client.get("/healthz")).status == 200
        unready = await client.get("/readyz")
        assert unready.status == 503
        body = await unready.json()
        assert body["reason"] == "database unreachable"
        scraped = await client.get("/metrics")
        assert scraped.status == 200
        seen = parse(await scraped.text())
        assert value(seen, "consentbot_database_up") == 0
        for name in ("consentbot_timers_due", "consentbot_timer_lag_seconds"):
            assert math.isnan(value(seen, name))
        assert math.isnan(value(seen, "consentbot_outbox_messages", state="due"))
        assert math.isnan(value(seen, "consentbot_webhook_deliveries", state="due"))
        # The process's own counters are still there.
        route = {"method": "GET", "route": "/readyz"}
        assert value(seen, "consentbot_http_requests_total", status="503", **route) == 1
    finally:
        await outage.end()
    clock.advance(FRESH_FOR)
    assert (await client.get("/readyz")).status == 200
    assert value(parse(await (await client.get("/metrics")).text()), "consentbot_database_up") == 1


@SQLITE_ONLY
async def test_only_those_who_may_read_metrics_are_told_why_and_at_which_migration(
    make_web_client: WebClientFactory, clock: ManualClock
) -> None:
    """A stranger learns ready or not (all a probe needs), never the release or the reason."""
    client = await make_web_client(metrics_allow=(), metrics_token=TOKEN)
    db = client.app[keys.DATABASE]
    async with db.transaction() as session:
        connection = await session.connection()
        await connection.execute(text("UPDATE alembic_version SET version_num = '0019'"))
    stranger = await client.get("/readyz")
    assert stranger.status == 503
    assert await stranger.json() == {"status": "not ready"}
    for wrong in ("Bearer nope", TOKEN):
        guessed = await client.get("/readyz", headers={"Authorization": wrong})
        assert guessed.status == 503
        assert await guessed.json() == {"status": "not ready"}
    operator = await client.get("/readyz", headers={"Authorization": f"Bearer {TOKEN}"})
    assert operator.status == 503
    body = await operator.json()
    assert body["database_revision"] == "0019"
    assert body["code_revision"] == code_head()
    assert "consentbot db upgrade" in body["reason"]
    async with db.transaction() as session:
        connection = await session.connection()
        await connection.execute(
            text("UPDATE alembic_version SET version_num = :head"), {"head": code_head()}
        )
    clock.advance(FRESH_FOR)
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {"status": "ready"}


async def test_an_answer_is_given_again_for_a_second_so_asking_fast_costs_one_query(
    client: AppClient, clock: ManualClock
) -> None:
    """/readyz needs no credentials: a stranger asking as fast as they can gets the
    database asked at most once a second."""
    db = client.app[keys.DATABASE]
    with statements_sent(db, "FROM alembic_version") as seen:
        answers = await asyncio.gather(*(client.get("/readyz") for _ in range(20)))
        assert [answer.status for answer in answers] == [200] * 20
        clock.advance(FRESH_FOR - timedelta(microseconds=1))
        assert (await client.get("/readyz")).status == 200
        assert len(seen) == 1
        clock.advance(timedelta(microseconds=1))
        assert (await client.get("/readyz")).status == 200
        assert len(seen) == 2
        # A clock set back does not keep the last answer for longer: it is asked again.
        clock.advance(-timedelta(hours=1))
        assert (await client.get("/readyz")).status == 200
        assert len(seen) == 3


async def test_callers_queued_behind_a_slow_check_get_its_answer_not_a_check_each(
    client: AppClient, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that does not answer takes the check's whole timeout: the answer is
    stamped when the check ends, so those who waited for it are given it."""
    readiness = client.app[keys.READINESS]
    asked = 0
    revision = readiness._revision

    async def slow() -> str | None:
        nonlocal asked
        asked += 1
        clock.advance(timedelta(seconds=3))  # as long as the check's timeout
        return await revision()

    monkeypatch.setattr(readiness, "_revision", slow)
    answers = await asyncio.gather(*(client.get("/readyz") for _ in range(5)))
    assert [answer.status for answer in answers] == [200] * 5
    assert asked == 1
