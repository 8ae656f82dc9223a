"""The scheduler loop inside ``consentbot serve``: due timers, at least once a second."""

from __future__ import annotations

import asyncio

import structlog

from consentbot.services.timers import TimerService

log = structlog.get_logger(__name__)


async def run_scheduler(timers: TimerService, interval: float) -> None:
    """Poll for due timers every ``interval`` seconds until cancelled (at once while more are due)."""
    while True:
        ran = 0
        try:
            ran = await timers.run_due()
        except Exception:
            # One bad timer must not stop reminders for everyone else.
            log.exception("scheduler.round_failed")
        if ran < timers.batch:
            # A full batch means more are due (a cohort's invitations): carry on at once.
            await asyncio.sleep(interval)
