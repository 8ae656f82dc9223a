"""``consentbot serve --workers N`` as a real process: the supervisor, and its workers' pids."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import aiohttp

from consentbot.testkit.ports import free_port

STARTUP_SECONDS = 60


class Served:
    """The supervisor process, its port and its log."""

    def __init__(self, process: asyncio.subprocess.Process, port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path

    def workers(self) -> list[int]:
        """The pids of the supervisor's children (its workers)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
        return [int(child) for child in children.split()]

    async def wait_ready(self, session: aiohttp.ClientSession, workers: int) -> None:
        """Until ``/healthz`` answers and every worker has started (both polled)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log()}")
            if self.log().count("service.started") >= workers:
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{self.base_url}/healthz") as response:
                        if response.status == 200:
                            return
            await asyncio.sleep(0.05)
        raise AssertionError(f"serve was not ready within {STARTUP_SECONDS} s:\n{self.log()}")

    async def wait(self, seconds: float = 30) -> int:
        """The supervisor's exit code, once it has exited."""
        return await asyncio.wait_for(self.process.wait(), seconds)

    def warnings(self, lines: int = 40) -> str:
        """The log's last warnings and errors (the service logs no number or message text)."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        found = [line for line in text if "warning" in line.lower() or "error" in line.lower()]
        return "\n".join(["serve's warnings and errors:", *found[-lines:]])

    def log(self, lines: int = 60) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])


def alive(pid: int) -> bool:
    """Whether a process with this pid still exists (and is not a zombie)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@contextlib.asynccontextmanager
async def serve_workers(env: Mapping[str, str], workers: int, log_path: Path) -> AsyncIterator[Served]:
    """``consentbot serve --workers N`` on a free port; stopped (SIGTERM, then SIGKILL) after."""
    port = free_port()
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "consentbot",
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(port),
            env=dict(env) | {"CONSENTBOT_LOG_LEVEL": "INFO"},
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    served = Served(process, port, log_path)
    try:
        yield served
    except BaseException:
        # Shown by pytest with the failure: what the workers warned of (a 503's cause).
        print(served.warnings(), file=sys.stderr)
        raise
    finally:
        if process.returncode is None:
            children = served.workers()
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
                for child in children:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, 9)
