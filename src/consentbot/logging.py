"""Structured logs (structlog): JSON in production, readable in development, with a request id.

Never pass a phone number, a message body, a token or a one-time code to a logger:
log ids (contact, participant, outbox message) instead. Database errors are logged
by type and stack only, through structlog and the standard library alike, because
their messages can quote statement values (see store/errors.py).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from consentbot.store.errors import is_database_error, safe_traceback


def configure_logging(fmt: str = "console", level: str = "INFO", *, serving: bool = False) -> None:
    """Route structlog and the standard library through one renderer.

    A serving process (``serving``) keeps each module's logger once built: the lazy proxy
    ``structlog.get_logger`` returns otherwise builds a new one at every call, a few
    microseconds each for the several lines a turn logs. Only there: a logger kept would
    not see a later configuration (a test's ``capture_logs``).
    """
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared,
            withhold_database_error_messages,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=serving,
    )
    # aiohttp's access log would print full query strings (Kannel puts the text there).
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    _withhold_database_error_messages_in_stdlib()


def withhold_database_error_messages(
    _logger: Any, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """structlog processor: a database error's traceback without its message."""
    error = _logged_exception(event_dict.get("exc_info"))
    if error is not None and is_database_error(error):
        del event_dict["exc_info"]
        event_dict["exception"] = safe_traceback(error)
    return event_dict


def _logged_exception(exc_info: object) -> BaseException | None:
    if exc_info is True:
        return sys.exc_info()[1]
    if isinstance(exc_info, BaseException):
        return exc_info
    if (
        isinstance(exc_info, tuple)
        and len(exc_info) == 3
        and isinstance(exc_info[1], BaseException)
    ):
        return exc_info[1]
    return None


def _withhold_database_error_messages_in_stdlib() -> None:
    """The same for every standard-library record (aiohttp's "Error handling request", asyncio).

    Done when the record is made, so that no handler (ours, aiohttp's, a test's) sees the message.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "withholds_database_errors", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        error = _logged_exception(record.exc_info)
        if error is not None and is_database_error(error):
            record.exc_info = None
            record.exc_text = safe_traceback(error)
        return record

    make_record.withholds_database_errors = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)
