"""A PostgreSQL server of the test's own, to restart in the middle of traffic.

The shared test server cannot be restarted under other people's tests, so this one is
made with ``initdb`` and run with ``pg_ctl`` from Debian's ``/usr/lib/postgresql/*/bin``,
as the ``postgres`` OS user (PostgreSQL refuses to run as root), with trust
authentication on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from consentbot.testkit.ports import free_port
from tests.support.databases import in_ci

OS_USER = "postgres"
DATABASE = "consentbot"


def _version(pg_ctl: str) -> tuple[int, ...]:
    return tuple(int(part) for part in Path(pg_ctl).parts[-3].split(".") if part.isdigit())


def server_binaries() -> Path | None:
    """The newest installed server's ``bin`` folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    return Path(found[-1]).parent if found else None


def missing() -> str | None:
    """Why a private server cannot run here, or None."""
    if server_binaries() is None:
        return "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin"
    if shutil.which("runuser") is None:
        return "runuser (util-linux) is needed to run PostgreSQL as the postgres OS user"
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        return f"there is no {OS_USER!r} OS user to run PostgreSQL as"
    return None


class PrivateCluster:
    """initdb, start, restart and stop one throw-away cluster."""

    def __init__(self, bindir: Path, folder: Path) -> None:
        self.bindir = bindir
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.port = free_port()
        self.admin_dsn = f"postgresql://{OS_USER}@127.0.0.1:{self.port}/postgres"
        self.url = f"postgresql+asyncpg://{OS_USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _command(self, program: str, *args: str) -> list[str]:
        return ["runuser", "-u", OS_USER, "--", str(self.bindir / program), *args]

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            self._command(program, *args), capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise AssertionError(f"{program} {' '.join(args)} failed:\n{result.stdout}{result.stderr}")

    def init_and_start(self) -> None:
        """A new cluster with one empty database."""
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", OS_USER, "-E", "UTF8", "--no-sync")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} "
            # Throw-away data: skip the disk flushes that would only slow the test down.
            "-c fsync=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        with psycopg.connect(self.admin_dsn, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')

    async def restart(self) -> None:
        """``pg_ctl restart -m fast``: every session is cut off, the server comes back."""
        # The new server writes to the log (-l): a pipe of ours would stay open as long as it runs.
        args = ("-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "restart")
        process = await asyncio.create_subprocess_exec(
            *self._command("pg_ctl", *args),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert await process.wait() == 0, f"pg_ctl restart failed:\n{self.log_tail()}"

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's log."""
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def postmaster_pid(self) -> int:
        """The running server's process id (it changes on a restart)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        """Stop at once, whatever is running (the data is thrown away)."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@contextlib.contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A running private cluster, removed afterwards; skips (or fails under CI) without one.

    Its folder is a fresh one in the system temporary folder, owned by ``postgres``: the
    test's own ``tmp_path`` lies under pytest's root-only (0700) folder, which the
    ``postgres`` user cannot enter.
    """
    reason = missing()
    if reason is not None:
        if in_ci():
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    bindir = server_binaries()
    assert bindir is not None
    folder = Path(tempfile.mkdtemp(prefix="consentbot-pg-"))
    try:
        shutil.chown(folder, OS_USER, OS_USER)
        cluster = PrivateCluster(bindir, folder)
        try:
            cluster.init_and_start()
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
