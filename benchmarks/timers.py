"""Reminders at volume: due timers found through an index, sent to the fake Twilio, next to its floor.

    .venv/bin/python benchmarks/timers.py                              # SQLite, 100,000 pending, 2,000 due
    .venv/bin/python benchmarks/timers.py --pending 5000 --due 200     # quick
    .venv/bin/python benchmarks/timers.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/timers.py --database-url ... --workers 2   # `consentbot serve --workers 2`

Issue #10 item 2: with 100,000 pending timers, finding the due ones costs O(due) through
``ix_timer_due``, and at least 2,000 reminders a second reach a local gateway emulator.

The service is built in this process by the same ``create_app`` as ``consentbot serve``, with
its background loops running, the Twilio gateway pointed at the fake Twilio API (testkit)
served from a child process (``twilio_process.py``: a gateway runs elsewhere, so its work is
not counted as the service's), the send rate raised for the run and a short scheduler interval.
The sample study has no quiet hours here, so reminders may go at any time of day.

1. ``--due`` patients text the study keyword and answer all five questions through the turn
   pipeline the SMS webhook calls: each has a real pending reminder to CONFIRM (due after the
   one-day cooling-off) and a pending expiry.
2. Filler rows (a contact, a participant and a "remind me later" timer due in a year each) are
   inserted by SQL until ``--pending`` timers are pending in all.
3. The scheduler's due query is timed alone (median of many), with nothing due and with a
   full batch due, and its plan is printed.
4. The patients' cooling-off is moved into the past and their reminders made due now, by SQL.
   The clock runs until the fake Twilio has received every reminder (its own arrival time).
   Reminders/s is counted from when the scheduler ran the first of them (the earliest
   ``done_at``): until then it was waiting out its polling interval, a delay the interval
   sets (up to 0.05 s here, a second by default) whatever the volume. The figure from the
   moment they were made due is printed too.
5. The floor: as many messages posted straight to the fake Twilio by an aiohttp client in
   this process, eight at a time like the outbox dispatcher: what sending alone allows.

With ``--workers N`` (PostgreSQL), steps 1-4 are the same but the scheduler and the dispatcher
run in ``consentbot serve --workers N`` processes on the same database, not in this process.

The report gives reminders/s next to the floor, PASS or FAIL against 2,000/s, and counts read
back from the database (and from the emulator once the outbox is empty, so a reminder sent
twice shows) so the figure is honest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import itertools
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web
from sqlalchemy import Table, event, func, insert, select, text, update
from sqlmodel import SQLModel, col

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import FULL, drive, in_process_settings
from sms_journey import (
    ROOT,
    STARTUP_SECONDS,
    STUDY,
    consentbot_service,
    fresh_postgres,
    service_env,
)
from twilio_process import TwilioProcess, twilio_process

from consentbot import event_loop, keys
from consentbot.app import create_app
from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.domain.timers import TimerKind, TimerStatus
from consentbot.logging import configure_logging
from consentbot.settings import Settings
from consentbot.store import migrate
from consentbot.store.database import Database
from consentbot.store.tables import ConsentState, Contact, OutboxMessage, Participant, Timer
from consentbot.store.timers import TimerRepository
from consentbot.testkit.ports import LOCALHOST
from consentbot.testkit.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    MESSAGES_PATH,
    SERVICE_NUMBER,
)

TARGET_PER_SECOND = 2000
SEND_RATE = 100_000.0
"""Messages we start per second: relaxed for the run, so the rate limit is not what is measured."""
SCHEDULER_INTERVAL = 0.05
DISPATCH_CONCURRENCY = 8
"""The outbox dispatcher's sends in flight (``OutboxDispatcher``'s default): the floor uses it too."""
COOLING_OFF = timedelta(days=1)
"""The sample study's cooling-off (``content/``): reminders fall due when it ends."""
BATCH = 100
"""The scheduler's batch (``TimerService.batch``): the due query asks for this many."""
QUERY_RUNS = 50
FILLER_DUE_IN = timedelta(days=365)
INSERT_CHUNK = 5000
DRIVE_CONCURRENCY = 16
DEADLINE_SECONDS = 600.0
"""Give up waiting for the reminders after this long (the report says how many came)."""
POLL_SECONDS = 0.05
"""How often the emulator is asked what arrived (the figure uses its own arrival times)."""


@dataclass(frozen=True)
class QueryTiming:
    """The scheduler's due query, run alone: median and worst of ``QUERY_RUNS``, in ms."""

    rows: int
    median_ms: float
    worst_ms: float


def phones(count: int) -> Iterator[str]:
    """UK mobiles, distinct."""
    for n in range(count):
        yield f"+4475{n:08d}"


def without_quiet_hours(workdir: Path) -> Path:
    """Copy ``content/`` with the sample study's quiet hours removed (cooling-off kept).

    ``sms_journey.prepare_content`` also shortens the cooling-off to seconds: the reminders
    would fall due while the patients are still being driven.
    """
    content = workdir / "content"
    shutil.copytree(ROOT / "content", content)
    study_file = content / "studies" / STUDY / "study.yaml"
    study = yaml.safe_load(study_file.read_text(encoding="utf-8"))
    study.pop("quiet_hours", None)
    study_file.write_text(yaml.safe_dump(study, sort_keys=False), encoding="utf-8")
    return content


def table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


async def drive_all(app: web.Application, numbers: Sequence[str]) -> None:
    """Every patient answers all five questions, ``DRIVE_CONCURRENCY`` at a time."""
    queue = iter(numbers)
    ids = itertools.count(1)
    done = [0]

    async def worker() -> None:
        for phone in queue:
            await drive(app, phone, FULL, ids)
            done[0] += 1
            if done[0] % 500 == 0:
                print(f"  {done[0]:,} of {len(numbers):,} patients", file=sys.stderr, flush=True)

    await asyncio.gather(*(worker() for _ in range(DRIVE_CONCURRENCY)))


async def scalar(db: Database, statement: Any) -> int:
    async with db.engine.connect() as connection:
        return int((await connection.execute(statement)).scalar_one())


def pending_timers() -> Any:
    return (
        select(func.count())
        .select_from(table("timer"))
        .where(col(Timer.status) == TimerStatus.PENDING)
    )


async def seed_filler(db: Database, count: int) -> None:
    """``count`` contacts, participants and far-off LATER timers, by SQL, a chunk per commit.

    The contacts copy a real patient's encrypted number (never read: their timers are a year
    away) under a distinct made-up hash.
    """
    if count <= 0:
        return
    async with db.engine.connect() as connection:
        model = (
            await connection.execute(
                select(col(Contact.phone_encrypted), col(Participant.language))
                .join(Participant, col(Participant.contact_id) == col(Contact.id))
                .limit(1)
            )
        ).one()
        version = (
            await connection.execute(select(func.max(col(Participant.content_version))))
        ).scalar_one()
    now = datetime.now(UTC)
    later = now + FILLER_DUE_IN
    for start in range(0, count, INSERT_CHUNK):
        numbers = range(start, min(start + INSERT_CHUNK, count))
        async with db.engine.begin() as connection:
            await connection.execute(
                insert(table("contact")),
                [
                    {
                        "phone_hash": f"filler{n:058d}",
                        "phone_encrypted": model.phone_encrypted,
                        "stopped": False,
                        "created_at": now,
                    }
                    for n in numbers
                ],
            )
            found = await connection.execute(
                select(col(Contact.phone_hash), col(Contact.id)).where(
                    col(Contact.phone_hash).in_([f"filler{n:058d}" for n in numbers])
                )
            )
            contacts = {phone_hash: contact_id for phone_hash, contact_id in found}
            await connection.execute(
                insert(table("participant")),
                [
                    {
                        "study_id": STUDY,
                        "reference": f"filler-{n}",
                        "contact_id": contacts[f"filler{n:058d}"],
                        "language": model.language,
                        "joined_by": "invitation",
                        "conversation": "{}",
                        "content_version": version,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in numbers
                ],
            )
            participants = (
                await connection.execute(
                    select(col(Participant.id)).where(
                        col(Participant.study_id) == STUDY,
                        col(Participant.reference).in_([f"filler-{n}" for n in numbers]),
                    )
                )
            ).scalars()
            await connection.execute(
                insert(table("timer")),
                [
                    {
                        "participant_id": participant,
                        "kind": TimerKind.LATER,
                        "due_at": later,
                        "status": TimerStatus.PENDING,
                        "created_at": now,
                    }
                    for participant in participants
                ],
            )
        print(
            f"  {min(start + INSERT_CHUNK, count):,} of {count:,} filler timers",
            file=sys.stderr,
            flush=True,
        )


async def time_due_query(db: Database, at: datetime) -> QueryTiming:
    """The scheduler's due query as it runs it (a read session each time), ``QUERY_RUNS`` times."""
    times = []
    rows = 0
    for _ in range(QUERY_RUNS):
        started = time.perf_counter()
        async with db.read() as session:
            rows = len(await TimerRepository(session).due(at, BATCH))
        times.append((time.perf_counter() - started) * 1000)
    return QueryTiming(rows, statistics.median(times), max(times))


async def due_query_plan(db: Database, at: datetime, postgres: bool) -> list[str]:
    """The plan of the exact SQL the scheduler's due query sends, with its parameters."""
    captured: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if "FROM timer" in statement and "due_at <=" in statement:
            captured.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with db.read() as session:
            await TimerRepository(session).due(at, BATCH)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
    if not captured:
        return ["(the due query was not seen: no plan)"]
    statement, parameters = captured[0]
    explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
    async with db.engine.connect() as connection:
        result = await connection.exec_driver_sql(explain + statement, parameters)
        return [" ".join(str(v) for v in row[-1:]) for row in result]


async def make_due(db: Database) -> int:
    """Move the patients' cooling-off into the past and their reminders to now, by SQL;
    return how many timers are due once that is committed."""
    now = datetime.now(UTC)
    async with db.engine.begin() as connection:
        await connection.execute(
            update(table("consent_state"))
            .where(col(ConsentState.status) == "pending")
            .values(pending_since=now - COOLING_OFF - timedelta(minutes=5))
        )
        await connection.execute(
            update(table("timer"))
            .where(
                col(Timer.status) == TimerStatus.PENDING,
                col(Timer.kind) == TimerKind.CONFIRM_REMINDER,
            )
            .values(due_at=now)
        )
        due = pending_timers().where(col(Timer.due_at) <= now)
        return int((await connection.execute(due)).scalar_one())


async def first_run(db: Database) -> datetime:
    """When the scheduler ran the first reminder: the earliest ``done_at`` of the reminders,
    which the service stamps with its clock as it runs each group."""
    statement = select(func.min(col(Timer.done_at))).where(
        col(Timer.kind) == TimerKind.CONFIRM_REMINDER, col(Timer.status) == TimerStatus.DONE
    )
    async with db.engine.connect() as connection:
        found = (await connection.execute(statement)).scalar_one()
    assert isinstance(found, datetime), "no reminder was run"
    return found


async def outbox_drained(db: Database) -> None:
    """Wait until every message queued so far has been sent (or settled otherwise)."""
    statement = (
        select(func.count())
        .select_from(table("outbox"))
        .where(col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
    )
    while await scalar(db, statement):  # noqa: ASYNC110 (the database is polled: no event)
        await asyncio.sleep(0.1)


async def wait_for(
    twilio: TwilioProcess, base: int, count: int, started: float
) -> tuple[float, int]:
    """Seconds from ``started`` until the emulator had received ``count`` messages more than
    ``base`` (when the last of them arrived, by its own clock), and how many more it had then.
    Past the deadline: the seconds so far, and what had come."""
    while True:
        arrived = await twilio.arrivals()
        if arrived.received - base >= count and arrived.last_at is not None:
            return arrived.last_at - started, arrived.received - base
        if time.perf_counter() - started > DEADLINE_SECONDS:
            return time.perf_counter() - started, arrived.received - base
        await asyncio.sleep(POLL_SECONDS)


async def floor(port: int, count: int) -> float:
    """Seconds to post ``count`` messages straight to the fake Twilio, eight at a time."""
    url = f"http://{LOCALHOST}:{port}" + MESSAGES_PATH.format(sid=ACCOUNT_SID)
    headers = {"Authorization": aiohttp.encode_basic_auth(ACCOUNT_SID, AUTH_TOKEN)}
    queue = iter(range(count))

    async def worker(client: aiohttp.ClientSession) -> None:
        for n in queue:
            form = {"To": f"+4476{n:08d}", "From": SERVICE_NUMBER, "Body": "floor"}
            async with client.post(url, data=form, headers=headers) as response:
                response.raise_for_status()
                await response.read()

    async with aiohttp.ClientSession() as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(DISPATCH_CONCURRENCY)))
        return time.perf_counter() - started


@dataclass
class Figures:
    before: dict[str, int]
    after: dict[str, int]
    idle: QueryTiming
    batch: QueryTiming
    plan: list[str]
    reminders_seconds: float
    reminders_received: int
    floor_seconds: float
    first_look: float
    """Seconds from making the reminders due until the scheduler ran the first of them."""


async def run(
    pending: int, due: int, admin_url: str | None, profile: Path | None, workers: int
) -> Figures:
    configure_logging(level="WARNING", serving=True)  # as `consentbot serve` does
    async with twilio_process() as twilio, contextlib.AsyncExitStack() as stack:
        with tempfile.TemporaryDirectory() as folder, fresh_postgres(admin_url) as pg_url:
            content = await asyncio.to_thread(without_quiet_hours, Path(folder))
            settings = in_process_settings(
                Path(folder),
                pg_url,
                twilio.port,
                content_dir=content,
                send_rate=SEND_RATE,
                scheduler_interval=SCHEDULER_INTERVAL,
            )
            if pg_url:
                await asyncio.to_thread(migrate.upgrade, pg_url)
            # With --workers the service's loops run in `consentbot serve` processes: this
            # process only drives the patients' turns, seeds the filler and reads the counts.
            app = create_app(settings, run_background=not workers)
            runner = web.AppRunner(app)
            await runner.setup()
            try:
                if workers:
                    await stack.enter_async_context(serving(settings, twilio.port, workers))
                db = app[keys.DATABASE]
                print(f"driving {due:,} patients through the questions", file=sys.stderr)
                await drive_all(app, list(phones(due)))
                await seed_filler(db, pending - await scalar(db, pending_timers()))
                if pg_url:
                    async with db.engine.begin() as connection:
                        await connection.execute(text("ANALYZE"))
                await outbox_drained(db)
                now = datetime.now(UTC)
                idle = await time_due_query(db, now)
                batch = await time_due_query(db, now + COOLING_OFF + timedelta(hours=1))
                plan = await due_query_plan(db, now, pg_url is not None)
                before = await census(db, datetime.now(UTC))
                base = (await twilio.arrivals()).received
                before["made due"] = await make_due(db)
                print(f"made {before['made due']:,} reminders due", file=sys.stderr, flush=True)
                started, started_at = time.perf_counter(), datetime.now(UTC)
                with profiled(profile):
                    reminders_seconds, reminders_received = await wait_for(
                        twilio, base, due, started
                    )
                await outbox_drained(db)
                first_look = (await first_run(db) - started_at).total_seconds()
                after = await census(db, datetime.now(UTC))
                after["reached the fake Twilio"] = (await twilio.arrivals()).received - base
                await stack.aclose()  # the floor is measured with no service running
                floor_seconds = await floor(twilio.port, due)
            finally:
                await stack.aclose()
                await runner.cleanup()
    return Figures(
        before,
        after,
        idle,
        batch,
        plan,
        reminders_seconds,
        reminders_received,
        floor_seconds,
        first_look,
    )


@contextlib.asynccontextmanager
async def serving(settings: Settings, twilio_port: int, workers: int) -> AsyncIterator[None]:
    """``consentbot serve --workers N`` on the run's database, content and fake Twilio, with
    the same secret key (the patients' numbers are encrypted with it), send rate and
    scheduler interval as the service in this process would have."""
    assert settings.database_url, "several processes need PostgreSQL"
    assert settings.secret_key, "the in-process settings give PostgreSQL a key"
    env = service_env(
        settings.data_dir, settings.content_dir, twilio_port, settings.database_url
    ) | {
        "CONSENTBOT_SECRET_KEY": settings.secret_key,
        "CONSENTBOT_SEND_RATE": str(SEND_RATE),
        "CONSENTBOT_SCHEDULER_INTERVAL": str(SCHEDULER_INTERVAL),
    }
    print(f"starting consentbot serve --workers {workers}", file=sys.stderr, flush=True)
    async with (
        aiohttp.ClientSession() as session,
        consentbot_service(session, env, settings.data_dir, STARTUP_SECONDS, workers),
    ):
        yield


@contextlib.contextmanager
def profiled(path: Path | None) -> Iterator[None]:
    """cProfile the event loop's thread while the reminders go, into ``path`` when given
    (py-spy cannot read every Python build; cProfile slows the code it measures, so read
    its shares, not its times)."""
    if path is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)
        print(f"profile of the reminder phase written to {path}", file=sys.stderr)


async def census(db: Database, now: datetime) -> dict[str, int]:
    """What the database holds: the honesty checks behind the figures."""
    reminders = pending_timers().where(col(Timer.kind) == TimerKind.CONFIRM_REMINDER)
    sent_reminders = (
        select(func.count())
        .select_from(table("outbox"))
        .where(
            col(OutboxMessage.kind) == OutboxKind.CONFIRM_REMINDER,
            col(OutboxMessage.status) == OutboxStatus.SENT,
        )
    )
    done_reminders = (
        select(func.count())
        .select_from(table("timer"))
        .where(
            col(Timer.kind) == TimerKind.CONFIRM_REMINDER,
            col(Timer.status) == TimerStatus.DONE,
        )
    )
    return {
        "participants": await scalar(db, select(func.count()).select_from(table("participant"))),
        "pending timers": await scalar(db, pending_timers()),
        "due now": await scalar(db, pending_timers().where(col(Timer.due_at) <= now)),
        "pending reminders": await scalar(db, reminders),
        "reminders done": await scalar(db, done_reminders),
        "reminders sent": await scalar(db, sent_reminders),
    }


def report(pending: int, due: int, admin_url: str | None, workers: int, f: Figures) -> bool:
    """Print the figures; True when the run passes."""
    database = "PostgreSQL" if admin_url else "SQLite"
    where = f"`consentbot serve --workers {workers}`" if workers else "the service in this process"
    print(
        f"consentbot timers on {database}, {where}: {pending:,} pending timers, "
        f"{due:,} reminders made due, send rate {SEND_RATE:,.0f}/s, "
        f"scheduler every {SCHEDULER_INTERVAL} s"
    )
    print("  before: " + ", ".join(f"{name} {value:,}" for name, value in f.before.items()))
    print(
        f"  due query ({BATCH} at most, {QUERY_RUNS} runs): nothing due {f.idle.median_ms:.2f} ms "
        f"median ({f.idle.worst_ms:.2f} worst, {f.idle.rows} rows); "
        f"a batch due {f.batch.median_ms:.2f} ms median ({f.batch.worst_ms:.2f} worst, {f.batch.rows} rows)"
    )
    print("  due query plan:")
    for line in f.plan:
        print(f"    {line}")
    whole = f.reminders_received / f.reminders_seconds if f.reminders_seconds else 0.0
    going = f.reminders_seconds - f.first_look
    rate = f.reminders_received / going if going > 0 else 0.0
    floor_rate = due / f.floor_seconds if f.floor_seconds else 0.0
    print(
        f"  reminders: {f.reminders_received:,} reached the fake Twilio in "
        f"{f.reminders_seconds:.2f} s from being made due: {whole:,.0f} reminders/s"
    )
    print(
        f"  the scheduler first ran one {f.first_look * 1000:.0f} ms after (it looks every "
        f"{SCHEDULER_INTERVAL} s when idle): {going:.2f} s from then, {rate:,.0f} reminders/s"
    )
    print(
        f"  floor: {due:,} posts straight to the fake Twilio, {DISPATCH_CONCURRENCY} at a time, in "
        f"{f.floor_seconds:.2f} s: {floor_rate:,.0f}/s"
    )
    ratio = rate / floor_rate if floor_rate else 0.0
    print(f"  ratio: reminders/s is {ratio:.1%} of the floor")
    print("  after: " + ", ".join(f"{name} {value:,}" for name, value in f.after.items()))
    problems = []
    if f.before["pending timers"] != pending:
        problems.append(f"{f.before['pending timers']:,} pending timers, not {pending:,}")
    if f.before["due now"]:
        problems.append(f"{f.before['due now']:,} timers were due before any was made due")
    if f.before["made due"] != due:
        problems.append(f"{f.before['made due']:,} due once made due, not {due:,}")
    if f.before["pending reminders"] != due:
        problems.append(f"{f.before['pending reminders']:,} pending reminders, not {due:,}")
    if f.reminders_received != due:
        problems.append(f"{f.reminders_received:,} SMS reached the fake Twilio, not {due:,}")
    if f.after["reached the fake Twilio"] != due:
        # Counted again once the outbox is empty: a reminder sent twice shows here.
        problems.append(
            f"{f.after['reached the fake Twilio']:,} SMS reached the fake Twilio in all, not {due:,}"
        )
    if f.after["reminders sent"] != due or f.after["reminders done"] != due:
        problems.append("not every reminder was sent and its timer done")
    if f.after["pending timers"] != pending - due:
        problems.append(f"{f.after['pending timers']:,} pending timers left, not {pending - due:,}")
    if not 0 <= f.first_look < f.reminders_seconds:
        problems.append(f"the first reminder ran {f.first_look:.3f} s after they were made due")
    if not any("ix_timer_due" in line for line in f.plan):
        problems.append("the due query's plan does not use ix_timer_due")
    if problems:
        print("  NOT HONEST: " + "; ".join(problems))
    ok = not problems and rate >= TARGET_PER_SECOND
    verdict = "PASS" if ok else "FAIL"
    print(
        f"{verdict}: {rate:,.0f} reminders/s against the {TARGET_PER_SECOND:,}/s target "
        f"(floor {floor_rate:,.0f}/s)"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pending", type=int, default=100_000, help="pending timers in all")
    parser.add_argument("--due", type=int, default=2_000, help="reminders made due")
    parser.add_argument("--database-url", help="a PostgreSQL admin URL (default: SQLite)")
    parser.add_argument(
        "--profile", type=Path, help="write a cProfile of the reminder phase to this file"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run the service as `consentbot serve --workers N` processes (PostgreSQL only) "
        "rather than in this process (default: in this process)",
    )
    args = parser.parse_args()
    if args.workers < 0:
        parser.error("--workers must be 0 (in this process) or more")
    if args.workers and not args.database_url:
        parser.error("--workers needs --database-url: several processes need PostgreSQL")
    if args.workers and args.profile:
        parser.error("--profile profiles this process: not with --workers")
    if args.due < 1:
        parser.error("--due must be at least 1")
    if args.pending < 2 * args.due:
        parser.error("--pending must be at least twice --due (each patient has two timers)")
    # In this process, the service runs on the loop `consentbot serve` runs on.
    figures = event_loop.run(
        run(args.pending, args.due, args.database_url, args.profile, args.workers)
    )
    return 0 if report(args.pending, args.due, args.database_url, args.workers, figures) else 1


if __name__ == "__main__":
    sys.exit(main())
