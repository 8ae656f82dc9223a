"""The real service, ``python -m consentbot serve``, as a process a test can kill and restart."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import aiohttp

from consentbot.testkit.ports import free_port

STARTUP_SECONDS = 60
"""How long a start (imports, migrations on SQLite) may take before the test gives up."""


class ServiceProcess:
    """One port, one log file; the process behind them may be killed and started again."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, session: aiohttp.ClientSession) -> None:
        """Start serving and return once ``/healthz`` answers (polled, with a deadline)."""
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "consentbot",
                "serve",
                "--port",
                str(self.port),
                env=self.env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise AssertionError(f"the service exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{self.base_url}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the service did not answer within {STARTUP_SECONDS} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no clean-up, no last commit, no goodbye."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        """Wait for the process to end; its return code."""
        assert self.process is not None
        return await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL if it lingers."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def log(self, lines: int = 40) -> str:
        """The end of the service's output, to explain a failure."""
        if not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])


@contextlib.asynccontextmanager
async def service_process(env: Mapping[str, str], log_path: Path) -> AsyncIterator[ServiceProcess]:
    """A :class:`ServiceProcess` that is stopped however the block ends."""
    service = ServiceProcess(env, log_path)
    try:
        yield service
    finally:
        await service.stop()
