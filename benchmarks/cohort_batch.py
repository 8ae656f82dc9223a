"""How long ``POST .../invitations/batch`` takes to store a cohort, next to a floor.

    .venv/bin/python benchmarks/cohort_batch.py                       # SQLite, 10,000 rows
    .venv/bin/python benchmarks/cohort_batch.py --rows 5000 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

The service is built by the same ``create_app`` as ``consentbot serve`` and listens on
127.0.0.1 (its background loops off, so the figure is the request alone); the batch is sent
over real HTTP with a research token. Then the same batch is sent again (everyone is already
invited: the answer only checks). The floor, measured in the same run on the same database,
is a bare insert of as many rows (two short columns, one the key) in one transaction: the least any
way of storing the cohort durably could cost. Finally the scheduler's work is timed: running
every stored invitation through the turn pipeline (without sending), per second.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sms_journey import ROOT, STUDY, fresh_postgres

from consentbot import keys
from consentbot.app import create_app
from consentbot.logging import configure_logging
from consentbot.settings import Settings
from consentbot.store import migrate
from consentbot.testkit.twilio import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SERVICE_NUMBER


async def floor(database_url: str, rows: int) -> float:
    """Seconds to insert ``rows`` bare rows in one transaction on the same database."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "CREATE TABLE bench_floor (ref VARCHAR(100) PRIMARY KEY, h VARCHAR(64) NOT NULL)"
                )
            )
        values = [{"ref": f"F-{n}", "h": secrets.token_hex(32)} for n in range(rows)]
        started = time.perf_counter()
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO bench_floor (ref, h) VALUES (:ref, :h)"), values
            )
        return time.perf_counter() - started
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE bench_floor"))
        await engine.dispose()


async def run(rows: int, admin_url: str | None) -> None:
    configure_logging(level="WARNING", serving=True)  # as `consentbot serve` does
    with tempfile.TemporaryDirectory() as folder, fresh_postgres(admin_url) as pg_url:
        settings = Settings(
            data_dir=Path(folder),
            database_url=pg_url or "",
            secret_key=secrets.token_urlsafe(48) if pg_url else None,
            content_dir=ROOT / "content",
            locales_dir=ROOT / "locales",
            log_level="WARNING",
            # Nothing is sent (the background loops are off), but PostgreSQL needs a real
            # gateway's settings: the console gateway is for SQLite on a developer's machine.
            sms_gateway="twilio",
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_from=SERVICE_NUMBER,
            public_url=PUBLIC_URL,
        )
        if pg_url:
            await asyncio.to_thread(migrate.upgrade, pg_url)
        app = create_app(settings, run_background=False)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            port = runner.addresses[0][1]
            token = await app[keys.TOKENS].create(STUDY, "benchmark")
            batch = [{"phone": f"+4474{n:08d}", "reference": f"B-{n}"} for n in range(rows)]
            url = f"http://127.0.0.1:{port}/api/v1/studies/{STUDY}/invitations/batch"
            headers = {"Authorization": f"Bearer {token}"}
            timeout = aiohttp.ClientTimeout(total=600)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                timings = []
                for expected in (
                    {"accepted": rows, "already_invited": 0},
                    {"accepted": 0, "already_invited": rows},
                ):
                    started = time.perf_counter()
                    async with session.post(
                        url, json={"invitations": batch}, headers=headers
                    ) as response:
                        body = await response.json()
                    timings.append(time.perf_counter() - started)
                    if (response.status, body) != (202, expected):
                        raise SystemExit(f"unexpected answer {response.status}: {body}")
            turns, started = 0, time.perf_counter()
            while ran := await app[keys.TIMERS].run_due():
                turns += ran
            pipeline = time.perf_counter() - started
            bare = await floor(settings.effective_database_url, rows)
        finally:
            await runner.cleanup()
    store, repeat = timings
    database = "PostgreSQL" if admin_url else "SQLite"
    print(f"{database}, {rows:,} invitations in one batch")
    print(f"  store (POST, 202):        {store:7.2f} s  ({rows / store:,.0f} rows/s)")
    print(f"  repeat (all already in):  {repeat:7.2f} s")
    print(f"  floor (bare insert):      {bare:7.2f} s  -> store is {store / bare:,.0f}x the floor")
    print(
        f"  invitation turns run by the scheduler: {turns:,} in {pipeline:.1f} s "
        f"({turns / pipeline:,.0f}/s; sending is paced at CONSENTBOT_SEND_RATE, default 10/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", help="a PostgreSQL admin URL (default: SQLite)")
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.database_url))


if __name__ == "__main__":
    main()
