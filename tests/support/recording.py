"""Stand-ins that record what the code under test asked for instead of doing it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RecordingSleep:
    """An ``asyncio.sleep`` replacement: remembers each delay and returns at once."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
