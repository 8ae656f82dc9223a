"""The event loop a serving process runs on: uvloop's where it is installed.

uvloop implements asyncio's event loop on libuv, in C: the scheduling of callbacks, the
polling and the socket transports under aiohttp's server and client. Those are pure
Python in the standard loop, and every webhook, every reply and every SMS to the gateway
passes through them several times. Counted by callgrind (docs/performance.md, session 18),
200 reminders sent in process cost about 5.5 % fewer instructions on uvloop.

Only for ``consentbot serve`` (and the benchmarks standing in for it): tests run on
pytest-asyncio's standard loop, so nothing here may depend on which loop it is. On a
platform uvloop does not support (Windows), the standard loop serves instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop, or the standard one where uvloop is not installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """:func:`asyncio.run` on :func:`new_event_loop`'s loop."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)
