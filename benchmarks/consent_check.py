"""How long ``POST .../consent-check`` takes for 100,000 references among 1,000,000
participants, next to a floor.

    .venv/bin/python benchmarks/consent_check.py                        # SQLite
    .venv/bin/python benchmarks/consent_check.py \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

It builds a database of ``--participants`` participants (default 1,000,000), each with a
consent row for every purpose of the sample study in a mix of statuses, by bulk inserts
straight into the tables (sqlite3 executemany; COPY on PostgreSQL, in a database of its own
that it creates and drops). The service is built by the same ``create_app`` as
``consentbot serve`` (background loops off) and listens on 127.0.0.1.

Then it checks ``--references`` references (default 100,000: nine in ten participants, one
in ten unknown, in random order) ``--repeat`` times each way:

- **service**: ``ConsentChecker.check``, the call the handler makes (validation, one read
  transaction, one query, sorting into the three lists);
- **HTTP**: the whole request over real HTTP with a research token, from sending the JSON
  body to having parsed the JSON answer;
- **floor**: a bare ``SELECT`` of the same references on the same database, through the
  driver alone (sqlite3 with ``json_each``; psycopg with ``= ANY(%s)``): the least any way
  of reading them could cost.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from array import array
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import psycopg
from aiohttp import web
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sms_journey import ROOT, STUDY, fresh_postgres

from consentbot import keys
from consentbot.app import create_app
from consentbot.domain import permitted
from consentbot.logging import configure_logging
from consentbot.settings import Settings
from consentbot.store import migrate
from consentbot.testkit.twilio import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SERVICE_NUMBER

PURPOSES = ("records-research", "social-care-linkage", "commercial-partner", "recontact", "updates")
STATUSES = (
    "active",
    "active",
    "active",
    "pending",
    "declined",
    "withdrawn",
    "expired",
    "reconsent_required",
)
"""The statuses drawn for each consent row: mostly active, every other one present."""
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def reference(n: int) -> str:
    return f"BENCH-{n:08d}"


def contact_rows(count: int) -> Iterator[tuple[object, ...]]:
    for n in range(1, count + 1):
        yield (n, f"{n:064x}", "benchmark", False, NOW)


COMBINATIONS = tuple(itertools.product(STATUSES, repeat=len(PURPOSES)))
"""Every way the purposes' statuses can fall; each participant draws one."""


def draw_statuses(count: int, seed: int) -> array[int]:
    """Participant n's statuses are COMBINATIONS[drawn[n - 1]]: each purpose's drawn alike."""
    draw = random.Random(seed).randrange
    return array("I", (draw(len(COMBINATIONS)) for _ in range(count)))


def participant_rows(count: int, drawn: array[int]) -> Iterator[tuple[object, ...]]:
    # The permitted purposes as the ledger keeps them (domain/permitted.py).
    stored = [permitted.from_statuses(dict(zip(PURPOSES, c, strict=True))) for c in COMBINATIONS]
    for n in range(1, count + 1):
        yield (
            n,
            STUDY,
            reference(n),
            n,
            "en",
            "invitation",
            "{}",
            1,
            0,
            "0" * 64,
            stored[drawn[n - 1]],
            NOW,
            NOW,
        )


def state_rows(count: int, drawn: array[int]) -> Iterator[tuple[object, ...]]:
    for n in range(1, count + 1):
        for purpose, status in zip(PURPOSES, COMBINATIONS[drawn[n - 1]], strict=True):
            yield (n, purpose, status, NOW, 1, "en")


CONTACT = "contact (id, phone_hash, phone_encrypted, stopped, created_at)"
PARTICIPANT = (
    "participant (id, study_id, reference, contact_id, language, joined_by, "
    "conversation, content_version, ledger_seq, ledger_head, permitted_purposes, "
    "created_at, updated_at)"
)
STATE = "consent_state (participant_id, purpose_id, status, since, content_version, language)"


def fill_sqlite(path: Path, count: int) -> None:
    """Bulk insert with sqlite3 (the service's own driver underneath aiosqlite)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        at = _sqlite_time(NOW)
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO contact (id, phone_hash, phone_encrypted, stopped, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            ((*row[:4], at) for row in contact_rows(count)),
        )
        drawn = draw_statuses(count, 1)
        connection.executemany(
            f"INSERT INTO {PARTICIPANT} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            ((*row[:11], at, at) for row in participant_rows(count, drawn)),
        )
        connection.executemany(
            f"INSERT INTO {STATE} VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
            ((*row[:3], at, *row[4:]) for row in state_rows(count, drawn)),
        )
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
    finally:
        connection.close()


def _sqlite_time(moment: datetime) -> str:
    # As store/types.py's UTCDateTime stores it on SQLite.
    return moment.replace(tzinfo=None).isoformat(sep=" ")


def fill_postgres(url: str, count: int) -> None:
    """Bulk insert with COPY."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as connection:
        with connection.cursor() as cursor:
            drawn = draw_statuses(count, 1)
            for table, rows in (
                (CONTACT, contact_rows(count)),
                (PARTICIPANT, participant_rows(count, drawn)),
                (STATE, state_rows(count, drawn)),
            ):
                with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            for table in ("contact", "participant"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})")
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")


async def sqlite_floor(path: Path, references: list[str]) -> Callable[[], Awaitable[int]]:
    async def run() -> int:
        def select() -> int:
            connection = sqlite3.connect(path)
            try:
                rows = connection.execute(
                    "SELECT reference FROM participant WHERE study_id = ? AND reference IN "
                    "(SELECT value FROM json_each(?))",
                    (STUDY, json.dumps(references)),
                ).fetchall()
            finally:
                connection.close()
            return len(rows)

        return await asyncio.to_thread(select)

    return run


async def postgres_floor(url: str, references: list[str]) -> Callable[[], Awaitable[int]]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def run() -> int:
        async with await psycopg.AsyncConnection.connect(dsn) as connection:
            cursor = await connection.execute(
                "SELECT reference FROM participant WHERE study_id = %s AND reference = ANY(%s)",
                (STUDY, references),
            )
            return len(await cursor.fetchall())

    return run


async def timed(repeat: int, run: Callable[[], Awaitable[object]]) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        timings.append(time.perf_counter() - started)
    return timings


def line(name: str, timings: list[float]) -> str:
    return (
        f"  {name:<28} median {statistics.median(timings) * 1000:7.0f} ms   "
        f"best {min(timings) * 1000:7.0f} ms   first {timings[0] * 1000:7.0f} ms"
    )


async def run(participants: int, wanted: int, repeat: int, admin_url: str | None) -> None:
    configure_logging(level="WARNING", serving=True)  # as `consentbot serve` does
    with tempfile.TemporaryDirectory() as folder, fresh_postgres(admin_url) as pg_url:
        sqlite_path = Path(folder) / "consentbot.db"
        url = pg_url or f"sqlite+aiosqlite:///{sqlite_path}"
        started = time.perf_counter()
        await asyncio.to_thread(migrate.upgrade, url)
        if pg_url:
            await asyncio.to_thread(fill_postgres, pg_url, participants)
        else:
            await asyncio.to_thread(fill_sqlite, sqlite_path, participants)
        built = time.perf_counter() - started
        settings = Settings(
            data_dir=Path(folder),
            database_url=pg_url or "",
            secret_key=secrets.token_urlsafe(48) if pg_url else None,
            content_dir=ROOT / "content",
            locales_dir=ROOT / "locales",
            log_level="WARNING",
            sms_gateway="twilio",  # nothing is sent; PostgreSQL needs a real gateway's settings
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_from=SERVICE_NUMBER,
            public_url=PUBLIC_URL,
        )
        app = create_app(settings, run_background=False)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            draw = random.Random(2)
            known = draw.sample(range(1, participants + 1), wanted - wanted // 10)
            references = [reference(n) for n in known]
            references += [f"UNKNOWN-{n}" for n in range(wanted // 10)]
            draw.shuffle(references)
            checker = app[keys.CONSENT_CHECK]

            async def service() -> None:
                answer = await checker.check(STUDY, "records-research", references)
                if len(answer.unknown) != wanted // 10:
                    raise SystemExit(f"wrong answer: {len(answer.unknown)} unknown")

            token = await app[keys.TOKENS].create(STUDY, "benchmark")
            port = runner.addresses[0][1]
            endpoint = f"http://127.0.0.1:{port}/api/v1/studies/{STUDY}/consent-check"
            body = json.dumps({"purpose": "records-research", "participants": references}).encode()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:

                async def http() -> None:
                    async with session.post(
                        endpoint, data=io.BytesIO(body), headers=headers
                    ) as response:
                        answer = await response.json()
                    if response.status != 200 or len(answer["unknown"]) != wanted // 10:
                        raise SystemExit(f"unexpected answer {response.status}")

                service_times = await timed(repeat, service)
                http_times = await timed(repeat, http)
            floor = await (
                postgres_floor(pg_url, references)
                if pg_url
                else sqlite_floor(sqlite_path, references)
            )
            floor_times = await timed(repeat, floor)
            if (found := await floor()) != wanted - wanted // 10:
                raise SystemExit(f"the floor found {found} references")
        finally:
            await runner.cleanup()
    database = "PostgreSQL" if admin_url else "SQLite"
    print(
        f"{database}: {wanted:,} references checked among {participants:,} participants "
        f"(database built in {built:.0f} s; {repeat} runs each)"
    )
    print(line("service (ConsentChecker)", service_times))
    print(line("HTTP (POST, 200, parsed)", http_times))
    print(line("floor (bare SELECT)", floor_times))
    print(
        f"  HTTP is {statistics.median(http_times) / statistics.median(floor_times):.1f}x "
        f"the floor (medians); body {len(body) / 1e6:.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1_000_000)
    parser.add_argument("--references", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="a PostgreSQL admin URL (default: SQLite)")
    args = parser.parse_args()
    if args.references > args.participants:
        parser.error("--references must not be more than --participants")
    asyncio.run(run(args.participants, args.references, args.repeat, args.database_url))


if __name__ == "__main__":
    main()
