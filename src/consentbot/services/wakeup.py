"""A background loop's doorbell: rung after a commit that gave the loop work."""

from __future__ import annotations

import asyncio
import contextlib


class Wakeup:
    """Lets a loop wait for a ring or for its interval, whichever comes first.

    A commit that queues work rings it, so the loop starts at once instead of at its next
    poll; rings while the loop is busy collapse into one.
    """

    def __init__(self) -> None:
        self._rung = asyncio.Event()

    def ring(self) -> None:
        """Ask the loop for a round now."""
        self._rung.set()

    async def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when rung (the ring is then used up).

        ``asyncio.timeout``, not ``asyncio.wait_for``: on Python 3.11, ``wait_for`` returns
        normally when a cancellation arrives just as the event is set, so the loop would
        carry on waiting and the service's shutdown would never finish.
        """
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._rung.wait()
        rung = self._rung.is_set()
        self._rung.clear()
        return rung
