"""Keep working data only as long as its retention period: the hourly purge inside ``serve``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from consentbot.domain.retention import RetentionPeriods, cutoffs
from consentbot.services.deps import ServiceDeps
from consentbot.store.retention import RetentionRepository

log = structlog.get_logger(__name__)

PURGE_EVERY = timedelta(hours=1)
"""Often enough that nothing outlives its period by more than an hour."""

BATCH = 500
"""Rows per transaction: small enough that SQLite's write lock is held only briefly."""


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """How many rows of each kind one round removed (outbox bodies: blanked)."""

    web_sessions: int = 0
    web_transcripts: int = 0
    form_ids: int = 0
    verifications: int = 0
    outbox_bodies: int = 0
    inbound_ids: int = 0

    @property
    def total(self) -> int:
        """Rows removed or blanked in the round."""
        return sum(getattr(self, f.name) for f in fields(self))


Step = Callable[[RetentionRepository, datetime, int], Awaitable[int]]


class RetentionService:
    """Purges each kind of working data once it is older than its period."""

    def __init__(self, deps: ServiceDeps, periods: RetentionPeriods, batch: int = BATCH) -> None:
        self.deps = deps
        self.periods = periods
        self.batch = batch

    async def purge(self) -> PurgeReport:
        """Remove everything due now, batch by batch; the ledger and consent are never touched."""
        due = cutoffs(self.periods, self.deps.clock())
        # Sessions first: they take their own transcripts, form ids and codes with them.
        report = PurgeReport(
            web_sessions=await self._batches(
                RetentionRepository.delete_web_sessions, due.web_sessions
            ),
            web_transcripts=await self._batches(
                RetentionRepository.delete_web_messages, due.web_transcripts
            ),
            form_ids=await self._batches(RetentionRepository.delete_form_uses, due.form_ids),
            verifications=await self._batches(
                RetentionRepository.delete_verifications, due.verifications
            ),
            outbox_bodies=await self._batches(
                RetentionRepository.blank_outbox_bodies, due.outbox_bodies
            ),
            inbound_ids=await self._batches(
                RetentionRepository.delete_inbound_ids, due.inbound_ids
            ),
        )
        if report.total:
            log.info(
                "retention.purged", **{f.name: getattr(report, f.name) for f in fields(report)}
            )
        return report

    async def _batches(self, step: Step, before: datetime) -> int:
        """Run ``step`` one transaction at a time until a batch comes back short."""
        total = 0
        while True:
            async with self.deps.db.transaction() as session:
                done = await step(RetentionRepository(session), before, self.batch)
            total += done
            if done < self.batch:
                return total
            # Let writers queued behind this batch (a message, a web answer) go first.
            await asyncio.sleep(0)


class Purger(Protocol):
    """What the loop runs: :class:`RetentionService` (or a stand-in in tests)."""

    async def purge(self) -> PurgeReport: ...


async def run_retention(
    service: Purger,
    every: timedelta = PURGE_EVERY,
    on_round: Callable[[PurgeReport], None] | None = None,
) -> None:
    """Purge at start, then every ``every``, until cancelled. ``on_round`` sees each report."""
    while True:
        try:
            report = await service.purge()
        except Exception:
            # A failed round is retried next time; stopping would keep data for ever.
            log.exception("retention.round_failed")
        else:
            if on_round is not None:
                on_round(report)
        await asyncio.sleep(every.total_seconds())
