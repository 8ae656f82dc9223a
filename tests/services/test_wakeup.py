"""A background loop's doorbell, and the loops that wait on it stopping when told."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from consentbot import keys
from consentbot.services.wakeup import Wakeup
from tests.conftest import AppClient


async def test_a_ring_ends_the_wait_and_is_used_up() -> None:
    wakeup = Wakeup()
    wakeup.ring()
    wakeup.ring()  # rings while the loop is busy collapse into one
    async with asyncio.timeout(5):
        assert await wakeup.wait(3600) is True
    assert await wakeup.wait(0.01) is False


async def test_without_a_ring_the_wait_ends_at_its_interval() -> None:
    assert await Wakeup().wait(0.01) is False


async def test_a_ring_during_the_wait_ends_it() -> None:
    wakeup = Wakeup()
    waiting = asyncio.create_task(wakeup.wait(3600))
    await asyncio.sleep(0)
    wakeup.ring()
    async with asyncio.timeout(5):
        assert await waiting is True


async def test_a_cancellation_that_arrives_with_a_ring_is_not_lost() -> None:
    """``asyncio.wait_for`` on Python 3.11 returned normally here, and the loop waited on."""
    wakeup = Wakeup()
    waiting = asyncio.create_task(wakeup.wait(3600))
    await asyncio.sleep(0)
    wakeup.ring()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):
            await waiting


def _deliverer_loop(client: AppClient) -> tuple[Callable[[], Coroutine[Any, Any, None]], Callable[[], None]]:
    deliverer = client.app[keys.WEBHOOK_DELIVERIES]
    return (lambda: deliverer.run(3600)), deliverer.wake


def _dispatcher_loop(client: AppClient) -> tuple[Callable[[], Coroutine[Any, Any, None]], Callable[[], None]]:
    dispatcher = client.app[keys.DISPATCHER]
    return (lambda: dispatcher.run(3600)), dispatcher.wake


@pytest.mark.parametrize("loop", [_deliverer_loop, _dispatcher_loop], ids=["webhooks", "outbox"])
async def test_a_loop_stops_when_cancelled_as_it_is_woken(
    client: AppClient,
    loop: Callable[[AppClient], tuple[Callable[[], Coroutine[Any, Any, None]], Callable[[], None]]],
) -> None:
    """The service's shutdown cancels each loop; one woken at that moment must still stop."""
    run, wake = loop(client)
    task = asyncio.create_task(run())
    for _ in range(20):  # until it waits for a ring
        await asyncio.sleep(0.01)
    wake()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):
            await task
