"""Whether this process can do its work: the database answers and its schema is current.

``/readyz`` answers from :meth:`Readiness.check`: a load balancer or orchestrator sends
traffic only to a ready process, and a deploy waits for migrations before switching.

``/readyz`` needs no credentials (a probe has none), so each answer is given again for a
second: however fast a stranger asks, the database is asked at most once a second.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from consentbot.services.clock import Clock, system_clock
from consentbot.store.database import Database
from consentbot.store.errors import describe
from consentbot.store.schema_version import code_head, database_revision, known_revisions

log = structlog.get_logger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0
"""Probes usually time out after a few seconds: answer 503 before they give up."""
FRESH_FOR = timedelta(seconds=1)
"""How long an answer is given again: probes come every few seconds, so none waits on it."""


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    """The outcome of one check: ``reason`` says why not, in words, when not ready."""

    ready: bool
    reason: str | None = None
    database_revision: str | None = None
    code_revision: str | None = None


class Readiness:
    """Checks the database with ``SELECT 1`` and compares its migration with the code's.

    One per process: the last answer is given again while it is under ``fresh_for`` old
    (by ``clock``), and callers at the same moment share one check.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock = system_clock,
        *,
        timeout: float = CHECK_TIMEOUT_SECONDS,
        fresh_for: timedelta = FRESH_FOR,
    ) -> None:
        self.db = db
        self.clock = clock
        self.timeout = timeout
        self.fresh_for = fresh_for
        self._last: tuple[datetime, ReadinessReport] | None = None
        self._checking = asyncio.Lock()

    async def check(self) -> ReadinessReport:
        """Ready, or not with a reason; never raises for a database that is down."""
        async with self._checking:
            now = self.clock()
            if self._last is not None:
                checked_at, report = self._last
                # A clock set back makes the answer stale, never fresh for longer.
                if timedelta(0) <= now - checked_at < self.fresh_for:
                    return report
            report = await self._check()
            # Stamped when it ends: an unreachable database takes the whole timeout, and
            # the callers queued meanwhile must get this answer, not a check each.
            self._last = (self.clock(), report)
            return report

    async def _check(self) -> ReadinessReport:
        expected = code_head()
        try:
            async with asyncio.timeout(self.timeout):
                found = await self._revision()
        except Exception as error:
            # Types only: a driver's message can quote the URL or statement values.
            log.warning("readiness.database_unreachable", error=describe(error))
            return ReadinessReport(False, "database unreachable", code_revision=expected)
        if found is None:
            return ReadinessReport(False, "database not migrated", code_revision=expected)
        if found != expected:
            reason = (
                "database migration is behind the code's: run `consentbot db upgrade`"
                if found in known_revisions()
                else "database was migrated by newer code than this"
            )
            return ReadinessReport(False, reason, database_revision=found, code_revision=expected)
        return ReadinessReport(True, database_revision=found, code_revision=expected)

    async def _revision(self) -> str | None:
        async with self.db.read() as session:
            return await database_revision(session)
