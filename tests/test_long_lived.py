"""freeze_after_startup: a serving process's startup objects are kept out of the collector's way."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web

from consentbot.long_lived import freeze_after_startup


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test run collects as before


async def test_what_exists_once_the_app_has_started_is_frozen(unfrozen: None) -> None:
    started: list[int] = []

    async def resources(_app: web.Application) -> AsyncIterator[None]:
        started.append(gc.get_freeze_count())  # the app's own startup comes first
        yield

    app = web.Application()
    app.cleanup_ctx.append(resources)
    runner = web.AppRunner(freeze_after_startup(app))
    await runner.setup()
    try:
        assert started == [0], "nothing frozen before the app's resources are open"
        assert gc.get_freeze_count() > 0, "frozen once startup has finished"
    finally:
        await runner.cleanup()
