"""configure_logging: a serving process keeps its loggers; elsewhere each call sees the
configuration of the moment (a test's capture_logs)."""

from __future__ import annotations

import pytest
import structlog
from structlog.testing import capture_logs

from consentbot.logging import configure_logging
from tests.support.logs import restore_logging  # noqa: F401 (a fixture)


@pytest.mark.usefixtures("restore_logging")
def test_a_serving_process_builds_each_logger_once() -> None:
    configure_logging("json", "INFO", serving=True)
    proxy = structlog.get_logger("consentbot.tests.serving")
    assert proxy.bind() is proxy.bind()


@pytest.mark.usefixtures("restore_logging")
def test_otherwise_a_logger_follows_a_later_configuration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "INFO")
    proxy = structlog.get_logger("consentbot.tests.cli")
    assert proxy.bind() is not proxy.bind()
    proxy.info("before")
    with capture_logs() as logs:
        proxy.info("captured")
    assert logs == [{"event": "captured", "log_level": "info"}]
    assert '"event": "before"' in capsys.readouterr().err
