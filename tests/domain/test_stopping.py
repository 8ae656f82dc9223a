"""Who may lift a STOP."""

from __future__ import annotations

import pytest

from consentbot.domain.stopping import StopSource, can_lift_stop


@pytest.mark.parametrize("source", [None, *StopSource])
def test_a_start_from_the_phone_lifts_any_stop(source: StopSource | None) -> None:
    assert can_lift_stop(source, from_phone=True)


def test_a_web_start_lifts_only_a_web_stop() -> None:
    assert can_lift_stop(StopSource.WEB, from_phone=False)
    assert can_lift_stop(None, from_phone=False)
    assert not can_lift_stop(StopSource.SMS, from_phone=False)
    assert not can_lift_stop(StopSource.CARRIER, from_phone=False)
