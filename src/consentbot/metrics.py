"""The service's Prometheus metrics: what an operator graphs and alerts on (docs/operations.md).

Every app owns one :class:`Metrics` with its own ``CollectorRegistry``, so tests can build
many apps in one process. With ``PROMETHEUS_MULTIPROC_DIR`` set (``serve --workers N``)
prometheus-client writes each value to a file per process as well, and ``/metrics``
adds up every process's files (:mod:`consentbot.web.metrics_endpoint`).

Labels hold only bounded, non-personal values: channels, gateways, outcomes, stages,
route templates. Never a phone number, a message text or a study participant.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, TypeVar

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.metrics import MetricWrapperBase

M = TypeVar("M", bound=MetricWrapperBase)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds: a turn stage takes a millisecond or two; a gateway call up to its 30 s timeout."""
GROUP_BUCKETS = (1, 2, 4, 8, 16, 32)
"""Writers per shared transaction: at most ``store.group_commit.MAX_GROUP`` (32)."""


def multiprocess_dir() -> str | None:
    """Where prometheus-client keeps each process's values, when several processes serve."""
    return os.environ.get(MULTIPROCESS_ENV) or None


class TurnStage(StrEnum):
    """The stages of a turn in :class:`consentbot.services.pipeline.TurnPipeline`."""

    LOAD = "load"
    """Lock the number, drop a repeated gateway message, load the person's studies."""
    DECIDE = "decide"
    """Read the text and run the conversation engine (with what it must read or claim first:
    a keyword's new participant, a due timer, the person's access list)."""
    STORE = "store"
    """Write the ledger, the projection, timers and the outgoing messages."""


class TurnTimer:
    """Times the stages of one turn and says how it ended.

    :meth:`lap` observes the time since the previous lap (or the start) for a stage;
    the caller sets :attr:`outcome` before the block ends (an exception counts "error").
    """

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._last = time.perf_counter()
        self.outcome = "handled"

    def lap(self, stage: TurnStage) -> None:
        """The stage that has just ended."""
        now = time.perf_counter()
        metrics = self._metrics
        metrics.labelled(metrics.turn_stage_seconds, stage.value).observe(now - self._last)
        self._last = now


class Metrics:
    """The counters and histograms the service updates as it works.

    Queue gauges (outbox, timers, webhooks) are not here: they are read from the database
    when scraped (:mod:`consentbot.services.queue_gauges`).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        folder = multiprocess_dir()
        self.multiprocess = folder is not None
        if folder is not None:
            # Emptying it is the launcher's job, before any worker starts: not ours.
            os.makedirs(folder, exist_ok=True)
        self.registry = registry if registry is not None else CollectorRegistry()
        if registry is None and not self.multiprocess:
            # Memory, CPU and open files of this process; meaningless summed over workers.
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                self.registry.register(collector)
        self._children: dict[tuple[MetricWrapperBase, tuple[str, ...]], Any] = {}
        r = self.registry
        self.turns = Counter(
            "consentbot_turns",
            "Turns through the pipeline, by channel, what started them and how they ended.",
            ["channel", "trigger", "outcome"],
            registry=r,
        )
        self.turn_stage_seconds = Histogram(
            "consentbot_turn_stage_seconds",
            "Time spent in each stage of a turn (inside its transaction, before the commit).",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.sms = Counter(
            "consentbot_sms",
            "Outgoing SMS by gateway and outcome: sent, retry, failed, opted_out, unknown.",
            ["gateway", "outcome"],
            registry=r,
        )
        self.gateway_send_seconds = Histogram(
            "consentbot_gateway_send_seconds",
            "Time one gateway call took to send one SMS (whatever its outcome).",
            ["gateway"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.group_commit_callers = Histogram(
            "consentbot_group_commit_callers",
            "Writers (turns, mostly) that shared one SQLite transaction, by whether it "
            "committed: its count is transactions, its sum the writers in them.",
            ["outcome"],
            buckets=GROUP_BUCKETS,
            registry=r,
        )
        self.http_requests = Counter(
            "consentbot_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_request_seconds = Histogram(
            "consentbot_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.http_in_flight = Gauge(
            "consentbot_http_requests_in_flight",
            "HTTP requests being answered now (summed over live worker processes).",
            registry=r,
            multiprocess_mode="livesum",
        )

    def labelled(self, metric: M, *values: str) -> M:
        """``metric.labels(*values)``, kept once made: prometheus-client checks the values and
        takes a lock at every call, several times a turn. The label values are few (see the
        module docstring), so the kept series are too."""
        key = (metric, values)  # the metric by identity: it lives as long as these metrics
        child: M | None = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    @contextmanager
    def turn(self, channel: str, trigger: str) -> Iterator[TurnTimer]:
        """Time one turn's stages and count it once it ends, "error" if it raised."""
        timer = TurnTimer(self)
        try:
            yield timer
        except BaseException:
            self.labelled(self.turns, channel, trigger, "error").inc()
            raise
        self.labelled(self.turns, channel, trigger, timer.outcome).inc()

    def group_committed(self, callers: int, committed: bool) -> None:
        """Count one shared SQLite transaction of ``callers`` writers (group commit)."""
        outcome = "committed" if committed else "failed"
        self.labelled(self.group_commit_callers, outcome).observe(callers)

    def sms_outcome(self, gateway: str, outcome: str, count: int = 1) -> None:
        """Count ``count`` messages that ended a send attempt this way on ``gateway``."""
        if count:
            self.labelled(self.sms, gateway, outcome).inc(count)

    @contextmanager
    def timing_send(self, gateway: str) -> Iterator[None]:
        """Time one gateway call, however it ends."""
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            self.labelled(self.gateway_send_seconds, gateway).observe(seconds)
