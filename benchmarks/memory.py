"""Resident memory of one process holding conversations in progress, next to its own floor.

    .venv/bin/python benchmarks/memory.py                        # SQLite, 10,000 conversations
    .venv/bin/python benchmarks/memory.py --patients 500         # quick
    .venv/bin/python benchmarks/memory.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/memory.py --patients 2000 --trace   # where the growth goes

The service is built in this process by the same ``create_app`` as ``consentbot serve``, with
its background loops running and the Twilio gateway pointed at the fake Twilio API (testkit),
served from this process too. Every patient texts the study keyword and goes through the
turn pipeline the SMS webhook calls (``InboundService.handle``): half answer all five
questions (their answers wait for CONFIRM: a reminder and an expiry are pending), half answer
two and text LATER (mid-questions, a "remind me later" pending). None finishes.

The floor is the same process after importing and building the app (started, before any
patient). The report gives VmRSS and VmHWM from /proc/self/status, the growth per 1,000
conversations, PASS or FAIL against the 200 MB target (issue #10), and counts read back from
the database so the figure is honest: pending timers, conversations mid-way.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sms_journey import ANSWERS, ROOT, fresh_postgres

from consentbot import event_loop, keys
from consentbot.app import create_app
from consentbot.channels.gateway import InboundSms
from consentbot.logging import configure_logging
from consentbot.settings import Settings
from consentbot.store import migrate
from consentbot.testkit.ports import LOCALHOST
from consentbot.testkit.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    SERVICE_NUMBER,
    FakeTwilio,
)

TARGET_MB = 200
KEYWORD = "JOINTS"
OPENING = (KEYWORD, "YES")
"""Join by keyword and start the questions (question 1 is asked)."""
FULL = (*OPENING, *ANSWERS)
"""All five answered: saved, waiting for CONFIRM (reminder and expiry pending)."""
PARTIAL = (*OPENING, ANSWERS[0], "LATER")
"""One answered, then LATER: mid-questions with a reminder pending."""
WARM_UP = 200
"""Patients before the second reading: one-off costs (caches, pools) are paid by then."""


@dataclass(frozen=True)
class Reading:
    """The process's memory at one moment, in MB."""

    rss: float
    hwm: float
    anon: float
    """The part of VmRSS that is the process's own memory (heap, stacks)."""
    file: float
    """The part that is files' pages mapped in: code, and SQLite's database through mmap."""

    @classmethod
    def now(cls) -> Reading:
        """VmRSS, VmHWM, RssAnon and RssFile of this process, after a full garbage collection."""
        gc.collect()
        fields = dict(
            line.split(":", 1)
            for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines()
        )
        return cls(*(_mb(fields[name]) for name in ("VmRSS", "VmHWM", "RssAnon", "RssFile")))

    def __str__(self) -> str:
        return (
            f"VmRSS {self.rss:6.1f} MB  VmHWM {self.hwm:6.1f} MB  "
            f"(anon {self.anon:6.1f}, file {self.file:5.1f})"
        )


def _mb(value: str) -> float:
    number, unit = value.split()
    assert unit == "kB"
    return int(number) / 1024


def phones(count: int) -> Iterator[str]:
    """UK mobiles, distinct, in the 07400 900xxx range and beyond it."""
    for n in range(count):
        yield f"+4474{n:08d}"


def script(phone: str) -> tuple[str, ...]:
    """What ``phone`` texts: every other patient answers everything."""
    return FULL if int(phone[-1]) % 2 == 0 else PARTIAL


async def drive(
    app: web.Application, phone: str, script: tuple[str, ...], ids: Iterator[int]
) -> None:
    """Text ``script`` from ``phone`` through the handler the SMS webhook calls."""
    inbound = app[keys.INBOUND]
    for words in script:
        await inbound.handle(
            InboundSms(
                gateway="twilio",
                gateway_message_id=f"SM{next(ids):032x}",
                sender=phone,
                recipient=SERVICE_NUMBER,
                text=words,
                received_at=datetime.now(UTC),
            )
        )


async def drive_all(
    app: web.Application, numbers: list[str], concurrency: int, ids: Iterator[int]
) -> None:
    """Every patient in ``numbers`` texts their script, ``concurrency`` at a time."""
    queue = iter(numbers)
    done = [0]

    async def worker() -> None:
        for phone in queue:
            await drive(app, phone, script(phone), ids)
            done[0] += 1
            if done[0] % 1000 == 0:
                print(f"  {done[0]:,} of {len(numbers):,} patients", file=sys.stderr, flush=True)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def census(database_url: str) -> dict[str, int]:
    """What the database holds: the honesty checks behind the memory figure."""
    queries = {
        "participants": "SELECT count(*) FROM participant",
        "pending timers": "SELECT count(*) FROM timer WHERE status = 'pending'",
        "with a pending timer": "SELECT count(DISTINCT participant_id) FROM timer WHERE status = 'pending'",
        "confirm-reminder": "SELECT count(*) FROM timer WHERE status = 'pending' AND kind = 'confirm-reminder'",
        "later": "SELECT count(*) FROM timer WHERE status = 'pending' AND kind = 'later'",
        "answers waiting for CONFIRM": (
            "SELECT count(DISTINCT participant_id) FROM consent_state WHERE status = 'pending'"
        ),
        "with any consent active": (
            "SELECT count(DISTINCT participant_id) FROM consent_state WHERE status = 'active'"
        ),
        "outbox messages": "SELECT count(*) FROM outbox",
    }
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return {
                name: (await connection.execute(text(q))).scalar_one()
                for name, q in queries.items()
            }
    finally:
        await engine.dispose()


class Forgetful:
    """Keeps the fake Twilio from holding every SMS it received: the figure is the service's.

    The fake records each message (tests read them); here only their number matters.
    """

    def __init__(self, fake: FakeTwilio) -> None:
        self.fake = fake
        self.received = 0

    def forget(self) -> None:
        """Count what the fake received so far, and drop its records."""
        self.received += len(self.fake.accepted)
        self.fake.accepted.clear()
        self.fake.inbox.clear()
        self.fake.arrivals.clear()

    async def keep_forgetting(self) -> None:
        """Forget every half second, until cancelled."""
        while True:
            await asyncio.sleep(0.5)
            self.forget()


def top_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, limit: int = 15) -> None:
    """Print the lines that allocated most between the two snapshots."""
    print(f"\ntracemalloc: top {limit} growths between the warm-up and the end")
    for stat in after.compare_to(before, "lineno")[:limit]:
        print(f"  {stat.size_diff / 1024:9.0f} KiB {stat.count_diff:+8d} blocks  {stat.traceback}")


def in_process_settings(
    folder: Path, pg_url: str | None, twilio_port: int, **overrides: Any
) -> Settings:
    """The service's settings for a benchmark that builds the app in this process: data in
    ``folder`` (or the fresh PostgreSQL database ``pg_url``), Twilio pointed at the fake on
    ``twilio_port``, quiet logs; ``overrides`` replace any of them."""
    options: dict[str, Any] = {
        "data_dir": folder,
        "database_url": pg_url or "",
        "secret_key": secrets.token_urlsafe(48) if pg_url else None,
        "content_dir": ROOT / "content",
        "locales_dir": ROOT / "locales",
        "log_level": "WARNING",
        "sms_gateway": "twilio",
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from": SERVICE_NUMBER,
        "twilio_api_base": f"http://{LOCALHOST}:{twilio_port}",
        "public_url": PUBLIC_URL,
    }
    return Settings(**(options | overrides))


async def run(patients: int, concurrency: int, admin_url: str | None, trace: bool) -> bool:
    configure_logging(level="WARNING", serving=True)  # as `consentbot serve` does
    fake = FakeTwilio()
    fake_runner = web.AppRunner(fake.app())
    await fake_runner.setup()
    await web.TCPSite(fake_runner, LOCALHOST, 0).start()
    twilio_port = fake_runner.addresses[0][1]
    try:
        with tempfile.TemporaryDirectory() as folder, fresh_postgres(admin_url) as pg_url:
            settings = in_process_settings(Path(folder), pg_url, twilio_port)
            if pg_url:
                await asyncio.to_thread(migrate.upgrade, pg_url)
            app = create_app(settings)
            runner = web.AppRunner(app)
            await runner.setup()
            forgetful = Forgetful(fake)
            forgetting = asyncio.create_task(forgetful.keep_forgetting())
            try:
                floor = Reading.now()
                numbers = list(phones(patients))
                ids = itertools.count(1)
                warm = min(WARM_UP, patients // 2)
                started = time.perf_counter()
                await drive_all(app, numbers[:warm], concurrency, ids)
                warmed = Reading.now()
                if trace:
                    tracemalloc.start()
                    before = tracemalloc.take_snapshot()
                await drive_all(app, numbers[warm:], concurrency, ids)
                seconds = time.perf_counter() - started
                end = Reading.now()
                if trace:
                    top_growth(before, tracemalloc.take_snapshot())
                    tracemalloc.stop()
                counts = await census(settings.effective_database_url)
            finally:
                forgetting.cancel()
                await runner.cleanup()
                forgetful.forget()
    finally:
        await fake_runner.cleanup()
    return report(
        patients,
        concurrency,
        admin_url,
        seconds,
        floor,
        warmed,
        warm,
        end,
        counts,
        forgetful.received,
        trace,
    )


def report(
    patients: int,
    concurrency: int,
    admin_url: str | None,
    seconds: float,
    floor: Reading,
    warmed: Reading,
    warm: int,
    end: Reading,
    counts: dict[str, int],
    received: int,
    trace: bool,
) -> bool:
    """Print the figures; True when the run passes."""
    database = "PostgreSQL" if admin_url else "SQLite"
    turns = sum(len(script(phone)) for phone in phones(patients))
    print(
        f"consentbot memory on {database}: {patients:,} conversations in progress, concurrency {concurrency}"
    )
    print(
        f"  driven: {turns:,} inbound SMS through the turn pipeline in {seconds:.1f} s "
        f"({turns / seconds:,.0f}/s); {received:,} SMS reached the fake Twilio, "
        f"{counts['outbox messages']:,} in the outbox"
    )
    print(f"  {'floor (app built, no patient)':34} {floor}")
    print(f"  {f'after {warm:,} patients (warm-up)':34} {warmed}")
    print(f"  {f'after {patients:,} patients':34} {end}")
    per_k = (end.rss - floor.rss) / patients * 1000
    rest = patients - warm
    slope = (end.rss - warmed.rss) / rest * 1000 if rest else 0.0
    print(
        f"  per 1,000 conversations: {per_k:.2f} MB over the floor; "
        f"{slope:.2f} MB after the warm-up (the growth that scales)"
    )
    print("  database: " + ", ".join(f"{name} {value:,}" for name, value in counts.items()))
    problems = []
    if counts["participants"] != patients:
        problems.append(f"{counts['participants']:,} participants, not {patients:,}")
    if counts["with a pending timer"] != patients:
        problems.append(
            f"{counts['with a pending timer']:,} with a pending timer, not {patients:,}"
        )
    if counts["with any consent active"]:
        problems.append(f"{counts['with any consent active']:,} already have consent active")
    expected = (patients + 1) // 2
    if counts["answers waiting for CONFIRM"] < expected or counts["later"] != patients - expected:
        problems.append("the conversations are not where the scripts left them")
    if problems:
        print("  NOT HONEST: " + "; ".join(problems))
    if trace:
        print("  (tracemalloc ran during the run: the figures above include its overhead)")
    ok = not problems and end.hwm < TARGET_MB
    verdict = "PASS" if ok else "FAIL"
    print(f"{verdict}: peak {end.hwm:.1f} MB resident (VmHWM) against the {TARGET_MB} MB target")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", help="a PostgreSQL admin URL (default: SQLite)")
    parser.add_argument("--trace", action="store_true", help="print tracemalloc's top growths")
    args = parser.parse_args()
    if args.patients < 2:
        parser.error("--patients must be at least 2")
    return (
        0
        # The service runs in this process: on the loop `consentbot serve` runs on.
        if event_loop.run(run(args.patients, args.concurrency, args.database_url, args.trace))
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
