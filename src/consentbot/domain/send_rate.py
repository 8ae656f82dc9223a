"""How fast we may start texting people: a token bucket, pure (the caller passes the time).

Messages we start ourselves (invitations, reminders, notices: ``PROACTIVE``) go out at no
more than ``CONSENTBOT_SEND_RATE`` per second, so a cohort of thousands never floods the
gateway or the carrier (which would queue, throttle or block the sender). Replies to a
person who has just written are not paced by it.

:class:`SendRate` smooths one process's sending; :class:`SharedRate` holds the rate for
every process sharing the database (``serve`` and ``consentbot invite --file`` at once).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

BURST_SECONDS = 0.1
"""The bucket holds a tenth of a second's worth (at least one message): sends may bunch up
that much, never more, so no second sees more than the rate plus a tenth of it."""


class SendRateError(ValueError):
    """The rate cannot be used (zero, negative or not a number)."""


@dataclass(slots=True)
class SendRate:
    """A token bucket filling at ``per_second`` tokens a second, up to ``burst``.

    Each message we start takes a token. Times are seconds on a monotonic clock, given by
    the caller, so the rule is tested without waiting.
    """

    per_second: float
    burst: float = 0.0
    """0 means the default: :data:`BURST_SECONDS` worth, at least one."""
    _tokens: float = field(default=0.0, init=False)
    _updated: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not self.per_second > 0:  # also refuses NaN
            raise SendRateError(f"the send rate must be above 0, not {self.per_second!r}")
        if self.burst <= 0:
            self.burst = max(1.0, self.per_second * BURST_SECONDS)
        self._tokens = self.burst

    def _refill(self, now: float) -> None:
        if self._updated is not None and now > self._updated:
            elapsed = now - self._updated
            self._tokens = min(self.burst, self._tokens + elapsed * self.per_second)
        if self._updated is None or now > self._updated:
            self._updated = now

    def available(self, now: float) -> int:
        """How many messages may go at ``now``."""
        self._refill(now)
        return int(self._tokens + 1e-9)

    def take(self, count: int, now: float) -> None:
        """Record that ``count`` messages went at ``now`` (at most :meth:`available`)."""
        self._refill(now)
        if count > int(self._tokens + 1e-9):
            raise ValueError(f"{count} messages asked for, {self._tokens:.2f} allowed")
        self._tokens -= count

    def wait(self, now: float) -> float:
        """Seconds from ``now`` until the next message may go (0 if one may go now)."""
        self._refill(now)
        missing = 1.0 - self._tokens
        return 0.0 if missing <= 1e-9 else missing / self.per_second


@dataclass(frozen=True, slots=True)
class SharedRate:
    """The send rate across every process sharing the database: a sliding window.

    :class:`SendRate` paces one process. ``serve`` and ``consentbot invite --file`` each
    run a dispatcher, so each would send at the full rate. Before claiming, a dispatcher
    counts the messages we start that any process claimed (``claimed_at``) within the last
    :attr:`window` and takes at most what :attr:`capacity` leaves. Claims are serialised
    (one SQLite writer; an advisory lock on PostgreSQL), so no window ever holds more.

    Times are the wall clock the claims are stamped with, given by the caller.
    """

    per_second: float

    def __post_init__(self) -> None:
        if not self.per_second > 0:  # also refuses NaN
            raise SendRateError(f"the send rate must be above 0, not {self.per_second!r}")

    @property
    def window(self) -> timedelta:
        """One second; longer for rates under one a second, so the window holds one message."""
        return timedelta(seconds=max(1.0, 1.0 / self.per_second))

    @property
    def capacity(self) -> int:
        """Messages we start allowed in any :attr:`window` (whole messages: rounded down)."""
        return max(1, math.floor(self.per_second * self.window.total_seconds() + 1e-9))

    def since(self, now: datetime) -> datetime:
        """Claims after this moment count against what may go at ``now``."""
        return now - self.window

    def allowance(self, recent: int) -> int:
        """How many may be claimed now, when ``recent`` were claimed within the window."""
        return max(0, self.capacity - recent)

    def free_at(self, oldest: datetime | None, now: datetime) -> datetime:
        """When the next message may go once the window is full: the oldest claim in it
        (or ``now``, if this round's claims are the window's first) leaves the window."""
        return (oldest or now) + self.window
