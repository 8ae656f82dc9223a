"""CONSENTBOT_RETENTION_* settings: read as ISO 8601 durations, checked, named when wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consentbot.domain.retention import RetentionPeriods
from consentbot.settings import Settings, SettingsError


def test_unset_periods_keep_the_defaults() -> None:
    assert Settings.from_env({}).retention == RetentionPeriods()
    assert Settings.from_env({"CONSENTBOT_RETENTION_OUTBOX_BODIES": ""}).retention == RetentionPeriods()


def test_each_period_has_its_own_variable() -> None:
    settings = Settings.from_env({
        "CONSENTBOT_RETENTION_WEB_TRANSCRIPTS": "P30D",
        "CONSENTBOT_RETENTION_WEB_SESSIONS": "P2W",
        "CONSENTBOT_RETENTION_OUTBOX_BODIES": "P7D",
        "CONSENTBOT_RETENTION_VERIFICATIONS": "P1D",
        "CONSENTBOT_RETENTION_INBOUND_IDS": "P3DT12H",
    })
    settings.check()
    assert settings.retention == RetentionPeriods(
        web_transcripts=timedelta(days=30),
        web_sessions=timedelta(weeks=2),
        outbox_bodies=timedelta(days=7),
        verifications=timedelta(days=1),
        inbound_ids=timedelta(days=3, hours=12),
    )


def test_a_malformed_period_names_its_variable() -> None:
    with pytest.raises(SettingsError, match=r"CONSENTBOT_RETENTION_WEB_SESSIONS: '3 months' is not an ISO 8601 duration"):
        Settings.from_env({"CONSENTBOT_RETENTION_WEB_SESSIONS": "3 months"})


def test_a_period_under_a_day_is_refused_with_the_reason() -> None:
    settings = Settings.from_env({"CONSENTBOT_RETENTION_INBOUND_IDS": "PT6H"})
    with pytest.raises(SettingsError) as caught:
        settings.check()
    message = str(caught.value)
    assert message.startswith("CONSENTBOT_RETENTION_INBOUND_IDS must be at least P1D (one day), not PT6H")
    assert "gateways retry" in message
