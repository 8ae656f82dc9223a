"""A receiver for every webhook test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.staff.conftest import make_staff, staff
from tests.webhooks.support import Receiver, receiving

__all__ = ["make_staff", "receiver", "staff"]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    """A real HTTP receiver on 127.0.0.1, and its URL."""
    async for each in receiving(Receiver()):
        yield each
