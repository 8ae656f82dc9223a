"""Benchmark the whole SMS consent journey over Twilio's protocol, against a bare floor.

Run from the project root::

    .venv/bin/python benchmarks/sms_journey.py --patients 200 --concurrency 20
    .venv/bin/python benchmarks/sms_journey.py \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

What happens, all on 127.0.0.1:

1. A temporary directory gets a copy of ``content/`` whose sample study cools off for
   two seconds and has no quiet hours, and (by default) an empty SQLite data folder.
   With ``--database-url`` (an admin URL) a fresh PostgreSQL database is created for
   the run and dropped afterwards.
2. A fake Twilio REST API runs in this process and hands each message the service
   sends to the recipient's simulated phone.
3. The real service runs as a subprocess (``consentbot serve``) with the twilio gateway
   pointed at the fake.
4. A pilot patient walks the journey alone first (a warm-up that also learns how many
   SMS parts each reply has); then ``--patients`` patients are invited through the
   research API and walk the journey with at most ``--concurrency`` of them talking
   at once. A *turn* is one signed webhook POST until the last part of the reply
   reaches the fake Twilio API.
5. The floor: a bare aiohttp server in a subprocess doing one SQLite insert per request, on
   the service's event loop (uvloop), hit with the same client, concurrency and number of
   requests as the journey's turns.
6. A table of throughput and latency for both, and their ratio. The journey's turns are
   also counted over the spans when all ``--concurrency`` patients were texting: at the
   start, and while the last patients wait out their cooling-off, fewer are, and the
   service waits with them (a fixed two seconds or so, a large share of a short run).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import itertools
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
import psycopg
import yaml
from psycopg import sql
from sqlalchemy.engine import make_url

from consentbot.testkit.ports import LOCALHOST, free_port
from consentbot.testkit.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    INBOUND_PATH,
    PUBLIC_URL,
    SERVICE_NUMBER,
    Accepted,
    FakeTwilio,
    inbound_params,
    signature_headers,
)

ROOT = Path(__file__).resolve().parents[1]
CONSENTBOT = str(Path(sys.executable).parent / "consentbot")
"""The virtualenv's ``consentbot`` command (the venv's python is a symlink: not resolved)."""
STUDY = "joint-health-records"
COOLING_OFF_SECONDS = 2
SCHEDULER_INTERVAL = 0.2
STARTUP_SECONDS = 60
"""How long a server may take to answer its health check."""
SETTLE_SECONDS = 0.3
"""The pilot's quiet time after a part before it decides a reply is complete."""
PILOT_PHONE = "+447400900000"

ANSWERS = ("YES", "NO", "YES", "NO", "YES")
"""The answers to the study's five purposes, in order (the first one is required)."""
PURPOSES = ("records-research", "social-care-linkage", "commercial-partner", "recontact", "updates")
CONFIRMED = {
    p: "active" if a == "YES" else "declined" for p, a in zip(PURPOSES, ANSWERS, strict=True)
}
WITHDRAWN = {
    p: "withdrawn" if a == "YES" else "declined" for p, a in zip(PURPOSES, ANSWERS, strict=True)
}


@dataclass(frozen=True)
class Step:
    """One text a patient sends, and a word its reply must contain."""

    text: str
    expect: str


BEFORE_COOLING_OFF: tuple[Step, ...] = (
    Step("MORE", "Reply with a number"),  # the list of topics
    Step("1", "Who we are and why we wrote"),  # topic 1's summary
    Step("MORE", "Why you:"),  # topic 1's detail
    Step("YES", "Question 1 of 5"),
    *(Step(answer, f"Question {n} of 5") for n, answer in enumerate(ANSWERS[:-1], start=2)),
    Step(ANSWERS[-1], "CONFIRM"),  # saved; confirm after cooling-off
)
AFTER_COOLING_OFF: tuple[Step, ...] = (
    Step("CONFIRM", "now count"),
    Step("CHOICES", "Your choices"),
    Step("WITHDRAW", "You have left"),
)
REMINDER_EXPECT = "reply CONFIRM"
TURNS_PER_PATIENT = len(BEFORE_COOLING_OFF) + len(AFTER_COOLING_OFF)


class BenchmarkError(RuntimeError):
    """Something the benchmark cannot go on from; the message says what."""


# --------------------------------------------------------------------------- set-up


def prepare_content(workdir: Path) -> Path:
    """Copy ``content/`` with the sample study cooling off for seconds and no quiet hours."""
    content = workdir / "content"
    shutil.copytree(ROOT / "content", content)
    study_file = content / "studies" / STUDY / "study.yaml"
    study = yaml.safe_load(study_file.read_text(encoding="utf-8"))
    study["cooling_off"] = f"PT{COOLING_OFF_SECONDS}S"
    study.pop("quiet_hours", None)
    study_file.write_text(yaml.safe_dump(study, sort_keys=False), encoding="utf-8")
    return content


@contextlib.contextmanager
def fresh_postgres(admin_url: str | None) -> Iterator[str | None]:
    """Create a database for the run from ``admin_url``, yield its URL, drop it afterwards.

    Yields None (SQLite) when ``admin_url`` is None.
    """
    if admin_url is None:
        yield None
        return
    url = make_url(admin_url)
    if url.get_backend_name() != "postgresql":
        raise BenchmarkError(f"--database-url must be a postgresql URL, not {url.drivername}")
    if url.host not in (None, "127.0.0.1", "localhost", "::1"):
        raise BenchmarkError("--database-url must point at this machine (127.0.0.1)")
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"consentbot_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def service_env(
    workdir: Path, content: Path, twilio_port: int, database_url: str | None
) -> dict[str, str]:
    """The environment of every ``consentbot`` subprocess: ours, without inherited settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CONSENTBOT_")}
    env |= {
        "CONSENTBOT_SMS_GATEWAY": "twilio",
        "CONSENTBOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "CONSENTBOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CONSENTBOT_TWILIO_FROM": SERVICE_NUMBER,
        "CONSENTBOT_PUBLIC_URL": PUBLIC_URL,
        "CONSENTBOT_TWILIO_API_BASE": f"http://{LOCALHOST}:{twilio_port}",
        "CONSENTBOT_CONTENT_DIR": str(content),
        "CONSENTBOT_LOCALES_DIR": str(ROOT / "locales"),
        "CONSENTBOT_DATA_DIR": str(workdir / "data"),
        "CONSENTBOT_LOG_LEVEL": "WARNING",
        "CONSENTBOT_SCHEDULER_INTERVAL": str(SCHEDULER_INTERVAL),
        # The benchmark measures turns, not the gateway's pace: invitations and reminders
        # go as fast as the service can send them.
        "CONSENTBOT_SEND_RATE": "100000",
    }
    if database_url is not None:
        env["CONSENTBOT_DATABASE_URL"] = database_url
        env["CONSENTBOT_SECRET_KEY"] = secrets.token_urlsafe(48)
    return env


def open_log(path: Path) -> IO[bytes]:
    """A file for a subprocess's output (kept to show when it fails)."""
    return path.open("wb")


def log_tail(path: Path, lines: int = 30) -> str:
    """The end of a subprocess's log, to explain a failure."""
    if not path.exists():
        return "(no log)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(empty log)"


# --------------------------------------------------------------------------- subprocesses


async def run_command(args: Sequence[str], env: Mapping[str, str], seconds: float = 60) -> str:
    """Run a command to completion and return its stdout; raise with its stderr on failure."""
    process = await asyncio.create_subprocess_exec(
        *args, env=dict(env), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise BenchmarkError(f"{' '.join(args)} did not finish within {seconds} s") from None
    if process.returncode != 0:
        raise BenchmarkError(
            f"{' '.join(args)} exited with {process.returncode}:\n{err.decode(errors='replace')}"
        )
    return out.decode()


@contextlib.asynccontextmanager
async def server_process(
    args: Sequence[str], env: Mapping[str, str], log_path: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run a server subprocess for the duration of the block; always stop it after."""
    with open_log(log_path) as log:
        process = await asyncio.create_subprocess_exec(
            *args, env=dict(env), stdout=log, stderr=asyncio.subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def wait_healthy(
    session: aiohttp.ClientSession,
    url: str,
    process: asyncio.subprocess.Process,
    log_path: Path,
    seconds: float,
) -> None:
    """Poll ``url`` until it answers 200 within ``seconds``; fail early if the process dies."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise BenchmarkError(
                f"server exited with {process.returncode} before it was ready:\n{log_tail(log_path)}"
            )
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(url) as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise BenchmarkError(f"{url} was not healthy within {seconds} s:\n{log_tail(log_path)}")


# --------------------------------------------------------------------------- phones


@dataclass
class Inbox:
    """The messages one phone has received and not read yet, with their arrival times."""

    phone: str
    queue: asyncio.Queue[Accepted]
    """The shared fake Twilio's arrivals for this phone."""

    async def receive(self, count: int, within: float, what: str) -> list[tuple[float, str]]:
        """The next ``count`` messages; raise if they do not all arrive ``within`` seconds."""
        parts: list[tuple[float, str]] = []
        try:
            async with asyncio.timeout(within):
                while len(parts) < count:
                    arrived = await self.queue.get()
                    parts.append((arrived.at, arrived.body))
        except TimeoutError:
            raise BenchmarkError(
                f"{self.phone}: {what}: got {len(parts)} of {count} SMS parts within {within} s"
            ) from None
        return parts

    async def receive_settled(self, within: float, what: str) -> list[tuple[float, str]]:
        """Every message until none arrives for SETTLE_SECONDS (the pilot's way to count parts)."""
        parts = await self.receive(1, within, what)
        while True:
            try:
                arrived = await asyncio.wait_for(self.queue.get(), SETTLE_SECONDS)
                parts.append((arrived.at, arrived.body))
            except TimeoutError:
                return parts


# --------------------------------------------------------------------------- patients


@dataclass(frozen=True)
class Turn:
    """One turn: when its webhook was posted, how long until the 200 and until the reply's last part."""

    started: float
    ack: float
    latency: float


@dataclass(frozen=True)
class Shape:
    """How many SMS parts each message of the journey has (learnt from the pilot)."""

    invitation: int
    before: tuple[int, ...]
    reminder: int
    after: tuple[int, ...]


_message_sids = itertools.count(1)


class Patient:
    """A simulated phone: texts the service through signed Twilio webhooks."""

    def __init__(self, phone: str, reference: str, inbox: Inbox, timeout: float) -> None:
        self.phone = phone
        self.reference = reference
        self.inbox = inbox
        self.timeout = timeout

    async def send(self, session: aiohttp.ClientSession, base_url: str, text: str) -> float:
        """POST one signed inbound-SMS webhook; return the time it was sent."""
        params = inbound_params(f"SM{next(_message_sids):032x}", self.phone, text)
        headers = signature_headers(INBOUND_PATH, params)
        started = time.perf_counter()
        async with session.post(base_url + INBOUND_PATH, data=params, headers=headers) as response:
            body = await response.text()
            if response.status != 200:
                raise BenchmarkError(
                    f"{self.phone}: webhook {text!r} got {response.status}: {body}"
                )
        return started

    async def turn(
        self, session: aiohttp.ClientSession, base_url: str, step: Step, parts: int
    ) -> Turn:
        """Text ``step`` and wait for the ``parts`` of its reply; check the reply's keyword."""
        started = await self.send(session, base_url, step.text)
        acked = time.perf_counter()
        what = f"reply to {step.text!r}"
        received = await self.inbox.receive(parts, self.timeout, what)
        check_reply(self.phone, what, received, step.expect)
        last = max(arrived for arrived, _ in received)
        return Turn(started, ack=acked - started, latency=last - started)


def check_reply(phone: str, what: str, parts: Sequence[tuple[float, str]], expect: str) -> None:
    """Raise unless the text of ``parts`` (in any order) contains ``expect``."""
    text = "\n".join(body for _, body in parts)
    if expect not in text:
        raise BenchmarkError(f"{phone}: {what} lacks {expect!r}:\n{text}")


class ResearchApi:
    """The research API with one study's bearer token."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str) -> None:
        self.session = session
        self.base = f"{base_url}/api/v1/studies/{STUDY}"
        self.headers = {"Authorization": f"Bearer {token}"}

    async def invite(self, patient: Patient) -> None:
        """Invite ``patient`` (their SMS invitation follows through the outbox)."""
        body = {"phone": patient.phone, "reference": patient.reference}
        async with self.session.post(
            f"{self.base}/invitations", json=body, headers=self.headers
        ) as response:
            if response.status != 201:
                raise BenchmarkError(
                    f"inviting {patient.phone}: {response.status} {await response.text()}"
                )

    async def consent(self, reference: str) -> dict[str, str]:
        """Purpose id -> status today."""
        async with self.session.get(
            f"{self.base}/participants/{reference}/consent", headers=self.headers
        ) as response:
            if response.status != 200:
                raise BenchmarkError(
                    f"consent of {reference}: {response.status} {await response.text()}"
                )
            data: dict[str, Any] = await response.json()
        return {purpose: item["status"] for purpose, item in data["purposes"].items()}

    async def expect(self, reference: str, expected: Mapping[str, str], when: str) -> None:
        """Raise unless the consent API reports ``expected`` for ``reference``."""
        found = await self.consent(reference)
        if found != expected:
            raise BenchmarkError(
                f"{reference} {when}: consent API says {found}, expected {dict(expected)}"
            )


async def pilot(
    session: aiohttp.ClientSession, base_url: str, api: ResearchApi, patient: Patient, show: bool
) -> Shape:
    """Walk the journey alone, learning how many SMS parts each reply has; check consent."""

    def seen(label: str, parts: list[tuple[float, str]]) -> int:
        if show:
            print(f"--- {label} ({len(parts)} part(s))", file=sys.stderr)
            for _, body in parts:
                print(body, file=sys.stderr)
        return len(parts)

    timeout = patient.timeout
    await api.invite(patient)
    invitation = seen("invitation", await patient.inbox.receive_settled(timeout, "invitation"))

    async def walk(steps: Sequence[Step]) -> tuple[int, ...]:
        counts = []
        for step in steps:
            await patient.send(session, base_url, step.text)
            what = f"reply to {step.text!r}"
            parts = await patient.inbox.receive_settled(timeout, what)
            check_reply(patient.phone, what, parts, step.expect)
            counts.append(seen(f"> {step.text}", parts))
        return tuple(counts)

    before = await walk(BEFORE_COOLING_OFF)
    reminder_parts = await patient.inbox.receive_settled(COOLING_OFF_SECONDS + timeout, "reminder")
    check_reply(patient.phone, "reminder", reminder_parts, REMINDER_EXPECT)
    reminder = seen("reminder", reminder_parts)
    after_confirm = await walk(AFTER_COOLING_OFF[:1])
    await api.expect(patient.reference, CONFIRMED, "after CONFIRM")
    after = after_confirm + await walk(AFTER_COOLING_OFF[1:])
    await api.expect(patient.reference, WITHDRAWN, "after WITHDRAW")
    return Shape(invitation, before, reminder, after)


class TalkingSlots:
    """At most ``slots`` patients texting at once, and when all the slots were taken.

    Patients wait for their cooling-off reminder without a slot. Near the start and the
    end of a run (the last patients' cooling-off above all) fewer than ``slots`` are
    texting, and the service waits with them: the turns answered while every slot was
    taken are its throughput at that concurrency.
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._semaphore = asyncio.Semaphore(slots)
        self._wanted = 0
        self._full_since: float | None = None
        self.full: list[tuple[float, float]] = []
        """The spans (start, end, in ``time.perf_counter`` seconds) with every slot taken."""

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot while texting."""
        # Counted from asking, not from getting it: a slot handed on from one patient to a
        # waiting one stays taken, though the waiter runs a moment later.
        self._wanted += 1
        self._count()
        try:
            async with self._semaphore:
                yield
        finally:
            self._wanted -= 1
            self._count()

    def _count(self) -> None:
        full = self._wanted >= self.slots
        if full and self._full_since is None:
            self._full_since = time.perf_counter()
        elif not full and self._full_since is not None:
            self.full.append((self._full_since, time.perf_counter()))
            self._full_since = None

    def answered_while_full(self, turns: Iterable[Turn]) -> list[Turn]:
        """The turns whose reply was complete while every slot was taken."""
        spans = sorted(self.full)
        starts = [start for start, _ in spans]
        kept = []
        for turn in turns:
            done = turn.started + turn.latency
            at = bisect.bisect_right(starts, done) - 1
            if at >= 0 and done <= spans[at][1]:
                kept.append(turn)
        return kept

    @property
    def full_seconds(self) -> float:
        """How long every slot was taken, in all."""
        return sum(end - start for start, end in self.full)


@dataclass
class JourneyResult:
    """What the timed patients measured."""

    turns: list[Turn] = field(default_factory=list)
    reminder_lags: list[float] = field(default_factory=list)
    wall: float = 0.0
    cpu: float | None = None
    """The service's CPU seconds over the journeys, all its processes (None: unknown)."""
    full_turns: list[Turn] = field(default_factory=list)
    """The turns answered while ``--concurrency`` patients were texting."""
    full_seconds: float = 0.0
    """How long that was."""


async def walk_patient(
    session: aiohttp.ClientSession,
    base_url: str,
    patient: Patient,
    shape: Shape,
    talking: TalkingSlots,
    result: JourneyResult,
) -> None:
    """One patient's journey after the invitation.

    The patient holds a ``talking`` slot while texting, not while waiting for the
    cooling-off reminder, so ``--concurrency`` patients keep the service busy.
    The reminder's lateness counts from the last answer being texted plus cooling-off.
    """
    async with talking.slot():
        for step, parts in zip(BEFORE_COOLING_OFF, shape.before, strict=True):
            last_answer = await patient.turn(session, base_url, step, parts)
            result.turns.append(last_answer)
    reminder = await patient.inbox.receive(
        shape.reminder, COOLING_OFF_SECONDS + patient.timeout, "reminder"
    )
    check_reply(patient.phone, "reminder", reminder, REMINDER_EXPECT)
    due = last_answer.started + COOLING_OFF_SECONDS
    result.reminder_lags.append(max(arrived for arrived, _ in reminder) - due)
    async with talking.slot():
        for step, parts in zip(AFTER_COOLING_OFF, shape.after, strict=True):
            result.turns.append(await patient.turn(session, base_url, step, parts))


async def run_all(jobs: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run coroutines as tasks; the first failure cancels the others and is raised alone."""
    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(job)
    except* Exception as failures:
        first = failures.exceptions[0]
        if isinstance(first, BenchmarkError):
            raise first from None
        raise BenchmarkError(f"{type(first).__name__}: {first}") from first


async def invite_all(
    api: ResearchApi, patients: Sequence[Patient], shape: Shape, concurrency: int
) -> float:
    """Invite every patient and wait for each invitation; return the wall time."""
    slots = asyncio.Semaphore(concurrency)

    async def invite(patient: Patient) -> None:
        async with slots:
            await api.invite(patient)
            await patient.inbox.receive(shape.invitation, patient.timeout, "invitation")

    started = time.perf_counter()
    await run_all(invite(patient) for patient in patients)
    return time.perf_counter() - started


async def run_journeys(
    session: aiohttp.ClientSession,
    base_url: str,
    patients: Sequence[Patient],
    shape: Shape,
    concurrency: int,
) -> JourneyResult:
    """Every patient's journey, ``concurrency`` texting at once."""
    result = JourneyResult()
    talking = TalkingSlots(concurrency)
    started = time.perf_counter()
    await run_all(walk_patient(session, base_url, p, shape, talking, result) for p in patients)
    result.wall = time.perf_counter() - started
    result.full_turns = talking.answered_while_full(result.turns)
    result.full_seconds = talking.full_seconds
    return result


# --------------------------------------------------------------------------- the floor

FLOOR_SERVER = """
import sqlite3, sys
from aiohttp import web
from consentbot.event_loop import new_event_loop

port, path = int(sys.argv[1]), sys.argv[2]
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")  # as the service: durable before it answers
db.execute("CREATE TABLE IF NOT EXISTS hit (id INTEGER PRIMARY KEY, sender TEXT, body TEXT)")
db.commit()

async def hit(request):
    form = await request.post()
    with db:  # one transaction, committed, per request
        db.execute("INSERT INTO hit (sender, body) VALUES (?, ?)", (form["From"], form["Body"]))
    return web.Response(text="<Response></Response>", content_type="text/xml")

async def health(request):
    return web.Response(text="ok")

app = web.Application()
app.router.add_post("/hit", hit)
app.router.add_get("/healthz", health)
# On the event loop `consentbot serve` runs on: the floor differs from the service only
# in what the handler does.
web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, loop=new_event_loop())
"""


async def hammer_floor(
    session: aiohttp.ClientSession, url: str, requests: int, concurrency: int
) -> tuple[list[float], float]:
    """POST ``requests`` webhook-shaped forms with ``concurrency`` workers; latencies and wall."""
    latencies: list[float] = []
    numbers = iter(range(requests))

    async def worker() -> None:
        for number in numbers:
            params = inbound_params(f"SM{number:032x}", f"+4474009{number % 100_000:05d}", "YES")
            started = time.perf_counter()
            async with session.post(url, data=params) as response:
                await response.read()
                if response.status != 200:
                    raise BenchmarkError(f"floor server answered {response.status}")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of process ``pid`` and its descendants so far, from
    ``/proc``; None where there is no ``/proc`` (not Linux).

    A noisy, shared machine changes how many turns a second the service answers, but far
    less what each turn costs the service: the figure to compare between runs.
    """
    proc = Path("/proc")
    if not (proc / str(pid)).exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            # Fields after the command's closing parenthesis: utime and stime are 14th and 15th.
            fields = (proc / str(current) / "stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in (proc / str(current) / "task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue  # it exited meanwhile
    return total


class CpuSpent:
    """The CPU seconds a process and its descendants spend inside a ``with`` block:
    ``seconds`` is None until the block ends, and stays None where it cannot be read."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seconds: float | None = None
        self._before: float | None = None

    def __enter__(self) -> CpuSpent:
        self._before = cpu_seconds(self.pid)
        return self

    def __exit__(self, *exc: object) -> None:
        after = cpu_seconds(self.pid)
        if self._before is not None and after is not None:
            self.seconds = after - self._before


async def run_floor(
    session: aiohttp.ClientSession, workdir: Path, requests: int, concurrency: int, startup: float
) -> tuple[list[float], float, float | None]:
    """Start the bare server, warm it up, then time ``requests`` requests; also the
    server's CPU seconds for them (None: not measurable here)."""
    port = free_port()
    log_path = workdir / "floor.log"
    args = [sys.executable, "-c", FLOOR_SERVER, str(port), str(workdir / "floor.db")]
    async with server_process(args, os.environ, log_path) as process:
        base = f"http://{LOCALHOST}:{port}"
        await wait_healthy(session, f"{base}/healthz", process, log_path, startup)
        await hammer_floor(session, f"{base}/hit", min(requests, 200), concurrency)  # warm-up
        with CpuSpent(process.pid) as cpu:
            latencies, wall = await hammer_floor(session, f"{base}/hit", requests, concurrency)
        return latencies, wall, cpu.seconds


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Summary:
    """Latency percentiles in milliseconds, and throughput."""

    count: int
    wall: float
    p50: float
    p90: float
    p99: float
    max: float

    @property
    def per_second(self) -> float:
        """Throughput over the wall time."""
        return self.count / self.wall if self.wall else 0.0

    @classmethod
    def of(cls, seconds: Sequence[float], wall: float) -> Summary:
        """Summarise latencies given in seconds."""
        ms = sorted(value * 1000 for value in seconds)
        cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
        return cls(len(ms), wall, cuts[49], cuts[89], cuts[98], ms[-1])


def print_report(
    backend: str,
    patients: int,
    concurrency: int,
    runs: Sequence[Run],
    floor: Summary,
    floor_cpu: float | None,
) -> None:
    """The results table: each run's turns next to the floor."""
    shape = runs[0].shape
    parts = sum(shape.before) + shape.reminder + sum(shape.after)
    print()
    print(f"consentbot SMS journey on {backend}: {patients} patients, concurrency {concurrency}")
    for run in runs:
        print(
            f"  invitations, {run.workers} worker(s): {patients} sent and received "
            f"in {run.invitations:.1f} s"
        )
    print(
        f"  per patient: {TURNS_PER_PATIENT} turns, {shape.invitation + parts} SMS "
        f"(parts per reply: {list(shape.before)} / reminder {shape.reminder} / {list(shape.after)})"
    )
    print()
    header = f"{'':32}{'count':>7}{'wall s':>9}{'per s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    print(header)
    print("-" * len(header))

    def row(label: str, s: Summary, rate: bool = True) -> None:
        throughput = f"{s.wall:>9.2f}{s.per_second:>9.1f}" if rate else " " * 18
        print(
            f"{label:<32}{s.count:>7}{throughput}"
            f"{s.p50:>9.1f}{s.p90:>9.1f}{s.p99:>9.1f}{s.max:>9.1f}"
        )

    turns: list[Summary] = []
    for run in runs:
        journey = run.journey
        turns.append(Summary.of([t.latency for t in journey.turns], journey.wall))
        label = "" if len(runs) == 1 else f", {run.workers} worker{'s' if run.workers > 1 else ''}"
        row(f"journey turn (reply){label}", turns[-1])
        if len(journey.full_turns) > 1:
            full = Summary.of([t.latency for t in journey.full_turns], journey.full_seconds)
            row(f"  all {concurrency} slots texting", full)
        row("  webhook answered", Summary.of([t.ack for t in journey.turns], journey.wall), False)
        row("  reminder lateness", Summary.of(journey.reminder_lags, journey.wall), False)
    row("floor (1 SQLite insert)", floor)
    print()
    first = turns[0]
    print(
        f"floor / journey throughput: {floor.per_second / first.per_second:.1f}x; "
        f"journey / floor latency: p50 {first.p50 / floor.p50:.1f}x, p99 {first.p99 / floor.p99:.1f}x"
    )
    floor_ms = None if floor_cpu is None else floor_cpu * 1000 / floor.count
    for run, summary in zip(runs, turns, strict=True):
        if run.journey.cpu is None or floor_ms is None:
            continue
        # Everything the service did meanwhile (replies sent, reminders) counts against turns.
        turn_ms = run.journey.cpu * 1000 / summary.count
        print(
            f"service CPU per turn, {run.workers} worker(s): {turn_ms:.2f} ms; floor: "
            f"{floor_ms:.2f} ms per request; ratio {turn_ms / floor_ms:.1f}x"
        )
    for run, summary in zip(runs[1:], turns[1:], strict=True):
        print(
            f"{run.workers} workers / 1 worker throughput: "
            f"{summary.per_second / first.per_second:.2f}x "
            f"({summary.per_second:.1f} / {first.per_second:.1f} turns/s)"
        )


# --------------------------------------------------------------------------- main


@contextlib.asynccontextmanager
async def consentbot_service(
    session: aiohttp.ClientSession,
    env: Mapping[str, str],
    workdir: Path,
    startup: float,
    workers: int = 1,
) -> AsyncIterator[tuple[str, int]]:
    """Migrate (PostgreSQL), serve with ``workers`` processes and wait until healthy;
    yields the base URL and the serving process's id.

    A failure inside the block gets the end of the service's log added to its message.
    """
    if "CONSENTBOT_DATABASE_URL" in env:
        await run_command([CONSENTBOT, "db", "upgrade"], env)
    port = free_port()
    base_url = f"http://{LOCALHOST}:{port}"
    log_path = workdir / "service.log"
    serve = [CONSENTBOT, "serve", "--port", str(port), "--workers", str(workers)]
    async with server_process(serve, env, log_path) as process:
        await wait_healthy(session, f"{base_url}/healthz", process, log_path, startup)
        try:
            yield base_url, process.pid
        except BenchmarkError as error:
            await asyncio.sleep(0.5)  # let a dying service finish its last words
            state = "running" if process.returncode is None else f"exited {process.returncode}"
            raise BenchmarkError(
                f"{error}\n--- the service is {state}; the end of its log:\n{log_tail(log_path)}"
            ) from None


def service_log_problems(workdir: Path) -> list[str]:
    """Lines the service logged other than the expected short cooling-off warning."""
    log = workdir / "service.log"
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    return [line for line in lines if line.strip() and "under 24 hours" not in line]


async def check_outcome(
    api: ResearchApi,
    twilio: FakeTwilio,
    patients: Sequence[Patient],
    sample_size: int,
    env: Mapping[str, str],
) -> str:
    """Consent API for a sample, no unread messages, ledger chains intact; a one-line summary."""
    sample = patients[:: max(1, len(patients) // sample_size)]
    for patient in sample:
        await api.expect(patient.reference, WITHDRAWN, "after WITHDRAW")
    await asyncio.sleep(SETTLE_SECONDS)
    unread = {phone: queue.qsize() for phone, queue in twilio.arrivals.items() if queue.qsize()}
    if unread:
        raise BenchmarkError(f"messages nobody waited for (phone: count): {unread}")
    ledger = await run_command([CONSENTBOT, "audit", "verify"], env)
    return f"consent API checked for {len(sample)} patients; {ledger.strip()}"


@dataclass(frozen=True)
class Run:
    """One journey phase against the service with ``workers`` processes."""

    workers: int
    invitations: float
    journey: JourneyResult
    shape: Shape


async def run_journey(
    args: argparse.Namespace,
    session: aiohttp.ClientSession,
    workdir: Path,
    content: Path,
    database_url: str | None,
    workers: int,
) -> Run:
    """Serve with ``workers`` processes on a fresh database: pilot, invitations, journeys."""
    backend = "PostgreSQL" if database_url else "SQLite"
    twilio = FakeTwilio()
    async with twilio.running() as twilio_port:
        env = service_env(workdir, content, twilio_port, database_url)
        note(f"starting consentbot serve on {backend} with {workers} worker(s)")
        async with consentbot_service(session, env, workdir, STARTUP_SECONDS, workers) as (
            base_url,
            pid,
        ):
            out = await run_command(
                [CONSENTBOT, "token", "create", "--study", STUDY, "--label", "bench"], env
            )
            api = ResearchApi(session, base_url, out.strip().splitlines()[-1])

            def patient(phone: str, reference: str) -> Patient:
                return Patient(phone, reference, Inbox(phone, twilio.arrivals[phone]), args.timeout)

            note("pilot patient: a warm-up that learns how many SMS parts each reply has")
            shape = await pilot(
                session, base_url, api, patient(PILOT_PHONE, "PILOT"), args.show_replies
            )
            patients = [
                patient(f"+4474009{n:05d}", f"BENCH-{n:05d}") for n in range(1, args.patients + 1)
            ]
            note(f"inviting {len(patients)} patients")
            invitations = await invite_all(api, patients, shape, args.concurrency)
            note(f"{len(patients)} journeys, at most {args.concurrency} patients texting at once")
            with CpuSpent(pid) as cpu:
                journey = await run_journeys(session, base_url, patients, shape, args.concurrency)
            journey.cpu = cpu.seconds
            note(await check_outcome(api, twilio, patients, args.check, env))
        for line in service_log_problems(workdir)[:10]:
            note(f"service log: {line}")
    return Run(workers, invitations, journey, shape)


async def benchmark(
    args: argparse.Namespace, workdir: Path, database_urls: Sequence[str | None]
) -> None:
    """Run everything inside ``workdir``; every server is stopped on the way out.

    One journey phase per entry of :func:`worker_counts` (1, and ``--workers`` when it
    is more), each on its own fresh database from ``database_urls``.
    SIGTERM cancels the run like Ctrl-C does, so the clean-up runs for it too.
    """
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    content = prepare_content(workdir)
    backend = "PostgreSQL" if database_urls[0] else "SQLite"
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    runs: list[Run] = []
    async with aiohttp.ClientSession(connector=connector) as session:
        for workers, database_url in zip(worker_counts(args), database_urls, strict=True):
            folder = workdir / f"workers-{workers}"
            folder.mkdir()
            runs.append(await run_journey(args, session, folder, content, database_url, workers))
        turns = len(runs[0].journey.turns)
        note(f"floor: {turns} requests to a bare aiohttp + SQLite server")
        latencies, wall, floor_cpu = await run_floor(
            session, workdir, turns, args.concurrency, STARTUP_SECONDS
        )
    floor = Summary.of(latencies, wall)
    print_report(backend, args.patients, args.concurrency, runs, floor, floor_cpu)


def worker_counts(args: argparse.Namespace) -> list[int]:
    """The worker counts to measure: 1 always, and ``--workers`` beside it when more."""
    return [1] if args.workers == 1 else [1, args.workers]


def note(message: str) -> None:
    """Progress, on stderr so that stdout holds only the report."""
    print(f"[sms_journey {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=80, help="simulated patients (default 80)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=20,
        help="patients texting at once, and the floor's workers (default 20)",
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL admin URL, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test: a "
        "fresh database is created from it for the run and dropped after (default: SQLite)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="also run the journey against `serve --workers N` (PostgreSQL only) and report "
        "turns/s with 1 and with N workers, each on a fresh database (default 1)",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for any reply (default 30)"
    )
    parser.add_argument(
        "--check", type=int, default=20, help="patients whose consent is read back (default 20)"
    )
    parser.add_argument(
        "--show-replies", action="store_true", help="print the pilot's conversation"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (logs, SQLite files)"
    )
    args = parser.parse_args(argv)
    if min(args.patients, args.concurrency, args.check) < 1 or args.timeout <= 0:
        parser.error("--patients, --concurrency, --check and --timeout must be positive")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.workers > 1 and not args.database_url:
        parser.error("--workers above 1 needs --database-url: several workers need PostgreSQL")
    if args.patients > 99_999:
        parser.error("--patients is at most 99999 (the phones are +4474009xxxxx)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Set up, run, clean up (also after errors and Ctrl-C); 0 on success, 1 on failure."""
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="consentbot-bench-"))
    try:
        with contextlib.ExitStack() as databases:
            urls = [
                databases.enter_context(fresh_postgres(args.database_url))
                for _ in worker_counts(args)
            ]
            asyncio.run(benchmark(args, workdir, urls))
        return 0
    except BenchmarkError as error:
        print(f"sms_journey: FAILED: {error}", file=sys.stderr)
        return 1
    except psycopg.Error as error:
        print(f"sms_journey: FAILED: PostgreSQL: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("sms_journey: interrupted", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            note(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
