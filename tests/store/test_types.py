"""Column types: aware UTC datetimes stored as SQLAlchemy would store them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from consentbot.store.types import UTCDateTime

SQLITE = sqlite.dialect()
COLUMN = UTCDateTime()
FAST = COLUMN.bind_processor(SQLITE)
STORED_BY_SQLITE = DateTime(timezone=True).dialect_impl(SQLITE).bind_processor(SQLITE)


def as_sqlalchemy_stores(value: datetime) -> object:
    """The two steps SQLAlchemy takes: this type's conversion, then SQLite's DATETIME."""
    assert STORED_BY_SQLITE is not None
    return STORED_BY_SQLITE(COLUMN.process_bind_param(value, SQLITE))


zones = st.one_of(
    st.just(UTC),
    st.timezones(),
    st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes))),
)


@given(st.datetimes(timezones=zones))
def test_sqlite_stores_the_text_sqlalchemys_steps_store(value: datetime) -> None:
    assert FAST is not None
    try:
        expected = as_sqlalchemy_stores(value)
    except OverflowError:  # outside the years a datetime holds, once in UTC
        with pytest.raises(OverflowError):
            FAST(value)
        return
    assert FAST(value) == expected


def test_the_stored_text_reads_back_as_the_same_moment() -> None:
    assert FAST is not None
    moment = datetime(2026, 12, 4, 23, 5, 7, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    stored = FAST(moment)
    assert stored == "2026-12-04 17:35:07.000000"
    assert datetime.fromisoformat(stored).replace(tzinfo=UTC) == moment


def test_nothing_is_stored_as_nothing_and_a_naive_time_is_refused() -> None:
    assert FAST is not None
    assert FAST(None) is None
    with pytest.raises(ValueError, match="naive"):
        FAST(datetime(2026, 12, 4, 12, 0))


def test_postgresql_gets_an_aware_utc_datetime() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    process = COLUMN.bind_processor(dialect)
    moment = datetime(2026, 12, 4, 12, 0, tzinfo=timezone(timedelta(hours=-5)))
    stored = process(moment) if process else COLUMN.process_bind_param(moment, dialect)
    assert stored == moment
    assert isinstance(stored, datetime)
    assert stored.tzinfo == UTC
