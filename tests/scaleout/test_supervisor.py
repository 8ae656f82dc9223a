"""The supervisor of ``serve --workers N``: refused on SQLite, stops every worker on SIGTERM,
and fails loudly (exit 1, the others stopped) when a worker dies on its own."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from consentbot.settings import Settings, SettingsError
from tests.scaleout.conftest import POSTGRES_ONLY
from tests.scaleout.workers_process import alive, serve_workers
from tests.support.cli import consentbot, twilio_env
from tests.support.databases import SQLITE_ONLY


@SQLITE_ONLY
def test_more_than_one_worker_on_sqlite_is_refused_with_the_reason(settings: Settings) -> None:
    result = consentbot(settings.with_(sms_gateway="console"), "serve", "--workers", "2")
    assert result.returncode == 2
    assert "needs PostgreSQL" in result.stderr
    assert "single writer" in result.stderr


@POSTGRES_ONLY
async def test_sigterm_stops_every_worker_and_removes_the_metrics_folder(
    settings: Settings, twilio_server: TestServer, tmp_path: Path
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = twilio_env(settings, twilio_server) | {"TMPDIR": str(temporary)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    async with (
        aiohttp.ClientSession() as session,
        serve_workers(env, 2, tmp_path / "serve.log") as served,
    ):
        await served.wait_ready(session, 2)
        workers = served.workers()
        assert len(workers) == 2
        (metrics,) = temporary.glob("consentbot-metrics-*")  # PROMETHEUS_MULTIPROC_DIR

        served.process.send_signal(signal.SIGTERM)
        assert await served.wait() == 0, served.log()
        assert not [worker for worker in workers if alive(worker)]
        assert not metrics.exists()
        assert "workers.stopped" in served.log()


@POSTGRES_ONLY
async def test_a_worker_that_dies_stops_the_others_and_the_supervisor_exits_1(
    settings: Settings, twilio_server: TestServer, tmp_path: Path
) -> None:
    env = twilio_env(settings, twilio_server)
    async with (
        aiohttp.ClientSession() as session,
        serve_workers(env, 2, tmp_path / "serve.log") as served,
    ):
        await served.wait_ready(session, 2)
        dying, other = served.workers()
        os.kill(dying, signal.SIGKILL)
        assert await served.wait() == 1, served.log()
        assert not alive(other)
        assert "workers.worker_died" in served.log()


@POSTGRES_ONLY
async def test_a_killed_supervisor_takes_its_workers_with_it(
    settings: Settings, twilio_server: TestServer, tmp_path: Path
) -> None:
    """No orphan keeps serving the port alone (Linux: the workers' parent-death signal)."""
    env = twilio_env(settings, twilio_server)
    async with (
        aiohttp.ClientSession() as session,
        serve_workers(env, 2, tmp_path / "serve.log") as served,
    ):
        await served.wait_ready(session, 2)
        workers = served.workers()
        served.process.kill()
        await served.wait()
        for _ in range(200):
            if not any(alive(worker) for worker in workers):
                break
            await asyncio.sleep(0.05)
        assert not any(alive(worker) for worker in workers)


def test_workers_come_from_the_environment_and_are_checked_when_serving() -> None:
    postgres = {"CONSENTBOT_DATABASE_URL": "postgresql+asyncpg://consentbot@db/consentbot"}
    assert Settings.from_env({}).workers == 1
    assert Settings.from_env(postgres | {"CONSENTBOT_WORKERS": "3"}).workers == 3
    with pytest.raises(SettingsError, match="must be at least 1"):
        Settings(workers=0).check()
    with pytest.raises(SettingsError, match="needs PostgreSQL"):
        Settings(workers=2).check()
    Settings(workers=2).check(serving=False)  # other commands do not run workers
