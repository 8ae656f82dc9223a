"""The hash chain: stable, and sensitive to every field and to order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from consentbot.domain.ledger_hash import GENESIS, canonical, event_hash

FIELDS: dict[str, object] = {
    "purpose_id": "records-research",
    "to_status": "pending",
    "occurred_at": datetime(2026, 12, 1, 10, tzinfo=UTC),
}


def test_stable_and_key_order_independent() -> None:
    reordered = dict(reversed(list(FIELDS.items())))
    assert event_hash(GENESIS, FIELDS) == event_hash(GENESIS, reordered)


def test_same_instant_in_another_zone_hashes_the_same() -> None:
    other = FIELDS | {"occurred_at": datetime(2026, 12, 1, 11, tzinfo=timezone(timedelta(hours=1)))}
    assert canonical(FIELDS) == canonical(other)


def test_any_change_or_previous_hash_changes_the_hash() -> None:
    base = event_hash(GENESIS, FIELDS)
    assert event_hash(GENESIS, FIELDS | {"to_status": "active"}) != base
    assert event_hash("1" * 64, FIELDS) != base
    assert len(base) == 64
