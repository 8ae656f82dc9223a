"""Queue gauges for ``/metrics``: read from the database when scraped, not kept in memory.

Every process sees the same database, so the figures are right whichever worker answers
the scrape, and need no aggregation across processes. When the database does not answer
in time, each figure is NaN and ``consentbot_database_up`` is 0: the scrape still succeeds,
so the process's own counters are not lost with it.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from consentbot.services.clock import Clock
from consentbot.store.backlog import Backlog, BacklogRepository, Waiting
from consentbot.store.database import Database
from consentbot.store.errors import describe

log = structlog.get_logger(__name__)

QUERY_TIMEOUT_SECONDS = 3.0
"""Well inside Prometheus's default 10 s scrape timeout."""


@dataclass(frozen=True, slots=True)
class QueueReading:
    """The backlog as read at ``now``, or None when the database did not answer."""

    now: datetime
    backlog: Backlog | None


class QueueGauges:
    """Reads the backlog for one scrape."""

    def __init__(
        self, db: Database, clock: Clock, *, timeout: float = QUERY_TIMEOUT_SECONDS
    ) -> None:
        self.db = db
        self.clock = clock
        self.timeout = timeout

    async def read(self) -> QueueReading:
        """The backlog now; None in the reading when the database failed or was too slow."""
        now = self.clock()
        try:
            async with asyncio.timeout(self.timeout):
                backlog = await self._backlog(now)
        except Exception as error:
            # Types only: a database error's message could quote statement values.
            log.warning("metrics.backlog_unavailable", error=describe(error))
            return QueueReading(now, None)
        return QueueReading(now, backlog)

    async def _backlog(self, now: datetime) -> Backlog:
        async with self.db.read() as session:
            return await BacklogRepository(session).backlog(now)


class QueueCollector(Collector):
    """Presents one :class:`QueueReading` as Prometheus gauges."""

    def __init__(self, reading: QueueReading) -> None:
        self.reading = reading

    def collect(self) -> Iterator[Metric]:
        """The gauges of the reading (NaN where the database did not answer)."""
        backlog, now = self.reading.backlog, self.reading.now
        figures = _figures(backlog, now) if backlog is not None else _UNKNOWN
        yield _gauge(
            "consentbot_database_up",
            "1 when the backlog query answered for this scrape, else 0.",
            0.0 if backlog is None else 1.0,
        )
        outbox = GaugeMetricFamily(
            "consentbot_outbox_messages",
            "Messages not yet settled: due (may go now), held (until later), sending.",
            labels=["state"],
        )
        for state in ("due", "held", "sending"):
            outbox.add_metric([state], figures[f"outbox_{state}"])
        yield outbox
        yield _gauge(
            "consentbot_outbox_oldest_due_age_seconds",
            "How long the oldest message that may go has waited (0 when none waits).",
            figures["outbox_age"],
        )
        yield _gauge(
            "consentbot_timers_due",
            "Pending timers whose time has come (reminders, expiries, invitations).",
            figures["timers_due"],
        )
        yield _gauge(
            "consentbot_timer_lag_seconds",
            "How late the oldest due but unfired timer is (0 when none is due).",
            figures["timer_lag"],
        )
        webhooks = GaugeMetricFamily(
            "consentbot_webhook_deliveries",
            "Webhook deliveries not yet accepted: due now, or waiting (backoff, lease).",
            labels=["state"],
        )
        for state in ("due", "waiting"):
            webhooks.add_metric([state], figures[f"webhooks_{state}"])
        yield webhooks
        yield _gauge(
            "consentbot_webhook_oldest_due_age_seconds",
            "How long the oldest due webhook delivery has waited (0 when none is due).",
            figures["webhook_age"],
        )


_UNKNOWN: dict[str, float] = defaultdict(lambda: math.nan)
"""Every figure when the database did not answer."""


def _figures(backlog: Backlog, now: datetime) -> dict[str, float]:
    return {
        "outbox_due": backlog.outbox_due.count,
        "outbox_held": backlog.outbox_held,
        "outbox_sending": backlog.outbox_sending,
        "outbox_age": _age(backlog.outbox_due, now),
        "timers_due": backlog.timers_due.count,
        "timer_lag": _age(backlog.timers_due, now),
        "webhooks_due": backlog.webhooks_due.count,
        "webhooks_waiting": backlog.webhooks_waiting,
        "webhook_age": _age(backlog.webhooks_due, now),
    }


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _age(waiting: Waiting, now: datetime) -> float:
    if waiting.oldest_due is None:
        return 0.0
    return max(0.0, (now - waiting.oldest_due).total_seconds())
