"""Undo what ``configure_logging`` (serve, every CLI command) does to the whole process."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo configure_logging afterwards: it changes process-wide state (and would keep
    printing to a captured stream that pytest has closed)."""
    factory = logging.getLogRecordFactory()
    access_level = logging.getLogger("aiohttp.access").level
    yield
    structlog.reset_defaults()
    logging.setLogRecordFactory(factory)
    logging.getLogger("aiohttp.access").setLevel(access_level)
