"""A receiver for every webhook test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.webhooks.support import Receiver, receiving


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    """A real HTTP receiver on 127.0.0.1, and its URL."""
    async for each in receiving(Receiver()):
        yield each
