"""Retention periods: what is due for removal, decided without the database."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta

from consentbot.domain.retention import Cutoffs, RetentionPeriods, cutoffs

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_every_period_defaults_to_ninety_days() -> None:
    periods = RetentionPeriods()
    assert {getattr(periods, f.name) for f in fields(periods)} == {timedelta(days=90)}


def test_each_cutoff_is_now_minus_its_own_period() -> None:
    periods = RetentionPeriods(
        web_transcripts=timedelta(days=1),
        web_sessions=timedelta(days=2),
        outbox_bodies=timedelta(days=3),
        verifications=timedelta(days=4),
        inbound_ids=timedelta(days=5),
    )
    assert cutoffs(periods, NOW) == Cutoffs(
        web_transcripts=NOW - timedelta(days=1),
        web_sessions=NOW - timedelta(days=2),
        form_ids=NOW - timedelta(days=2),  # one-time form ids go with their sessions
        outbox_bodies=NOW - timedelta(days=3),
        verifications=NOW - timedelta(days=4),
        inbound_ids=NOW - timedelta(days=5),
    )


def test_cutoffs_move_with_the_clock() -> None:
    later = NOW + timedelta(hours=1)
    before, after = cutoffs(RetentionPeriods(), NOW), cutoffs(RetentionPeriods(), later)
    for f in fields(Cutoffs):
        assert getattr(after, f.name) - getattr(before, f.name) == timedelta(hours=1)


def test_periods_under_a_day_are_named_in_order() -> None:
    assert RetentionPeriods().too_short() == []
    assert RetentionPeriods(web_transcripts=timedelta(days=1)).too_short() == []
    short = RetentionPeriods(verifications=timedelta(hours=23), inbound_ids=timedelta(0))
    assert short.too_short() == ["verifications", "inbound_ids"]
