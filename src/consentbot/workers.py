"""``consentbot serve --workers N``: N processes serving one port, and the supervisor over them.

Each worker is a whole service (the same :func:`~consentbot.app.create_app`, its own
database pool, scheduler and outbox loop) listening with ``SO_REUSEPORT``, so the kernel
spreads connections over the processes. The work they share in the database is claimed
with ``FOR UPDATE SKIP LOCKED`` (see docs/scaling.md), which is why more than one worker
needs PostgreSQL (:meth:`Settings.check` refuses it on SQLite).

The supervisor only starts, watches and stops: SIGTERM or SIGINT is passed on to every
worker, which finishes its requests and closes cleanly; a worker that dies on its own
stops the others and the supervisor exits non-zero, so whatever runs ``serve``
(systemd, a container runtime) sees the failure and restarts the whole service.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

import structlog
from aiohttp import web

from consentbot import event_loop
from consentbot.long_lived import freeze_after_startup
from consentbot.settings import Settings

log = structlog.get_logger(__name__)

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""Where prometheus-client's multiprocess mode keeps each process's figures."""

STOP_SECONDS = 75.0
"""How long the workers get to finish after SIGTERM (aiohttp's own grace is 60 s)."""

_PR_SET_PDEATHSIG = 1


def serve(settings: Settings) -> int:
    """Serve with ``settings.workers`` processes; the exit code for the command."""
    if settings.workers == 1:
        from consentbot.app import create_app

        app = freeze_after_startup(create_app(settings))
        loop = event_loop.new_event_loop()
        web.run_app(app, host=settings.host, port=settings.port, print=None, loop=loop)
        return 0
    return Supervisor(settings).run()


class Supervisor:
    """Starts the workers, forwards stop signals to them and reports how they ended."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.workers: list[BaseProcess] = []
        self.stopping = False

    def run(self) -> int:
        """Run until a stop signal (0 once every worker has stopped) or a worker dies (1)."""
        with metrics_dir():
            handlers = {
                signal.SIGTERM: self._on_signal,
                signal.SIGINT: self._on_signal,
                signal.SIGALRM: self._kill_lingering,
            }
            previous = {
                number: signal.signal(number, handler) for number, handler in handlers.items()
            }
            try:
                return self._supervise()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)  # the SIGKILL deadline, if set
                for number, handler in previous.items():
                    signal.signal(number, handler)

    def _supervise(self) -> int:
        # Fork: no event loop, thread or connection is open here yet, and each worker
        # skips the imports and content checks a fresh interpreter would repeat.
        context = multiprocessing.get_context("fork")
        for index in range(self.settings.workers):
            if self.stopping:
                break  # a stop signal came while starting: start no more
            worker = context.Process(
                target=run_worker,
                args=(self.settings, index, os.getpid()),
                name=f"consentbot-worker-{index}",
            )
            worker.start()
            self.workers.append(worker)
        log.info(
            "workers.started",
            workers=len(self.workers),
            pids=[w.pid for w in self.workers],
            port=self.settings.port,
        )
        failed = False
        running = list(self.workers)
        while running:
            for sentinel in wait([worker.sentinel for worker in running]):
                ended = next(w for w in running if w.sentinel == sentinel)
                ended.join()
                running.remove(ended)
                _forget_metrics(ended.pid)
                if self.stopping and ended.exitcode in (0, -signal.SIGTERM):
                    continue
                failed = True
                log.error("workers.worker_died", worker=ended.name, exitcode=ended.exitcode)
                self._stop_all()
        log.info("workers.stopped", failed=failed)
        return 1 if failed else 0

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        log.info("workers.stopping", signal=signal.Signals(number).name)
        self._stop_all()

    def _stop_all(self) -> None:
        """SIGTERM every live worker, once; SIGKILL any still there after STOP_SECONDS."""
        if self.stopping:
            return
        self.stopping = True
        for worker in self.workers:
            if worker.is_alive():
                worker.terminate()
        signal.setitimer(signal.ITIMER_REAL, STOP_SECONDS)

    def _kill_lingering(self, _number: int, _frame: FrameType | None) -> None:
        for worker in self.workers:
            if worker.is_alive():
                log.error("workers.worker_killed", worker=worker.name)
                worker.kill()


@contextlib.contextmanager
def metrics_dir() -> Iterator[None]:
    """A fresh PROMETHEUS_MULTIPROC_DIR for the workers unless one is set; removed after."""
    if os.environ.get(METRICS_DIR_VARIABLE):
        yield
        return
    folder = tempfile.mkdtemp(prefix="consentbot-metrics-")
    os.environ[METRICS_DIR_VARIABLE] = folder
    try:
        yield
    finally:
        os.environ.pop(METRICS_DIR_VARIABLE, None)
        shutil.rmtree(folder, ignore_errors=True)


def _forget_metrics(pid: int | None) -> None:
    """Tell prometheus-client (when installed) that a worker's live gauges are gone."""
    try:
        # Imported by name: prometheus-client is optional here (the metrics change adds it).
        multiprocess = importlib.import_module("prometheus_client.multiprocess")
    except ImportError:
        return
    if pid is not None and os.environ.get(METRICS_DIR_VARIABLE):
        with contextlib.suppress(OSError):
            multiprocess.mark_process_dead(pid)


def run_worker(settings: Settings, index: int, supervisor: int) -> None:
    """One worker process: the whole service on the shared port until SIGTERM or SIGINT."""
    # The supervisor's handlers came with the fork; this process stops on its own terms.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(supervisor)
    from consentbot.content.problems import ContentError
    from consentbot.store.crypto import SecretKeyError

    structlog.contextvars.bind_contextvars(worker=index)
    try:
        event_loop.run(_serve_one(settings))
    except (ContentError, SecretKeyError) as error:
        print(f"consentbot: {error}", file=sys.stderr)
        sys.exit(1)


async def _serve_one(settings: Settings) -> None:
    from consentbot.app import create_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    runner = web.AppRunner(freeze_after_startup(create_app(settings)))
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, reuse_port=True)
        await site.start()
        await stop.wait()
    finally:
        await runner.cleanup()


def _die_with(supervisor: int) -> None:
    """Linux: SIGTERM this worker if the supervisor dies (even by SIGKILL), so no orphan
    keeps serving the port alone."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:
        # The supervisor was already gone before the line above took effect.
        os.kill(os.getpid(), signal.SIGTERM)
