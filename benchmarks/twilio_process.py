"""The fake Twilio in a process of its own: a gateway emulator that does not share our core.

    .venv/bin/python benchmarks/twilio_process.py     # prints its port, serves until stdin closes

A real gateway runs elsewhere: in the service's process the emulator's own work (parsing each
post, answering it) would be counted against the service. Here it runs in a child process,
like Kannel's fakesmsc, and the benchmark asks it how many messages arrived and when the
last one did, on ``GET /count``.

The times are ``time.perf_counter()`` readings: the system-wide monotonic clock on Linux, so
the parent can subtract its own readings from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from consentbot.testkit.ports import LOCALHOST
from consentbot.testkit.twilio import FakeTwilio

SCRIPT = str(Path(__file__).resolve())
COUNT_PATH = "/count"
FORGET_EVERY = 0.5
"""Seconds between drops of the fake's records: only their number matters here."""


class CountingTwilio:
    """The fake Twilio, counting what it accepted and forgetting the messages themselves."""

    def __init__(self) -> None:
        self.fake = FakeTwilio()
        self.forgotten = 0

    def received(self) -> int:
        return self.forgotten + len(self.fake.accepted)

    def last_at(self) -> float | None:
        return self.fake.accepted[-1].at if self.fake.accepted else None

    def forget(self) -> None:
        # Keep the newest record: it says when the last message came.
        keep = self.fake.accepted[-1:]
        self.forgotten += len(self.fake.accepted) - len(keep)
        self.fake.accepted[:] = keep
        self.fake.inbox.clear()
        self.fake.arrivals.clear()

    async def count(self, _request: web.Request) -> web.Response:
        return web.json_response({"received": self.received(), "last_at": self.last_at()})

    def app(self) -> web.Application:
        app = self.fake.app()
        app.router.add_get(COUNT_PATH, self.count)
        return app


async def serve() -> None:
    """Serve on a free port, print it, and stop when stdin closes (the parent is gone)."""
    counting = CountingTwilio()
    runner = web.AppRunner(counting.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, LOCALHOST, 0).start()
    print(runner.addresses[0][1], flush=True)
    loop = asyncio.get_running_loop()
    closed = loop.run_in_executor(None, sys.stdin.read)
    try:
        while not closed.done():
            await asyncio.sleep(FORGET_EVERY)
            counting.forget()
    finally:
        await runner.cleanup()


@dataclass(frozen=True)
class Arrivals:
    """What the emulator had received when asked."""

    received: int
    last_at: float | None


@dataclass
class TwilioProcess:
    """A running emulator: its port, and a way to ask what arrived."""

    port: int
    client: aiohttp.ClientSession

    async def arrivals(self) -> Arrivals:
        async with self.client.get(f"http://{LOCALHOST}:{self.port}{COUNT_PATH}") as response:
            body = await response.json()
        return Arrivals(int(body["received"]), body["last_at"])


@contextlib.asynccontextmanager
async def twilio_process() -> AsyncIterator[TwilioProcess]:
    """Run the emulator in a child process for the block."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        SCRIPT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        port = int((await asyncio.wait_for(process.stdout.readline(), 30)).strip())
        async with aiohttp.ClientSession() as client:
            yield TwilioProcess(port, client)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


if __name__ == "__main__":
    asyncio.run(serve())
