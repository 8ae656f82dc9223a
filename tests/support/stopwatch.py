"""A monotonic clock the test moves: for code that takes ``monotonic`` (send pacing, the
pool's idle ping) rather than reading ``time.monotonic`` itself."""

from __future__ import annotations


class Stopwatch:
    """Seconds, as ``time.monotonic`` gives them, moved by the test (``now += ...``)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now
