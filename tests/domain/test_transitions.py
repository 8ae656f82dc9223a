"""The consent state machine, rule by rule."""

from __future__ import annotations

import pytest

from consentbot.domain.status import ConsentStatus as S
from consentbot.domain.status import counts_as_permission
from consentbot.domain.transitions import TRANSITIONS, ConsentAction, is_recorded, next_status

A = ConsentAction


def test_only_active_is_permission() -> None:
    assert [s for s in S if counts_as_permission(s)] == [S.ACTIVE]


def test_confirm_is_the_only_way_to_active() -> None:
    into_active = {key for key, target in TRANSITIONS.items() if target is S.ACTIVE}
    assert into_active == {(S.PENDING, A.CONFIRM)}


@pytest.mark.parametrize("start", [S.NONE, S.DECLINED, S.WITHDRAWN, S.EXPIRED, S.RECONSENT_REQUIRED])
def test_yes_starts_cooling_off_never_permission(start: S) -> None:
    assert next_status(start, A.ANSWER_YES) is S.PENDING


def test_yes_when_already_active_keeps_it() -> None:
    assert next_status(S.ACTIVE, A.ANSWER_YES) is S.ACTIVE


@pytest.mark.parametrize(
    ("start", "expected"),
    [(S.NONE, S.DECLINED), (S.EXPIRED, S.DECLINED), (S.PENDING, S.WITHDRAWN), (S.ACTIVE, S.WITHDRAWN)],
)
def test_no_takes_effect_at_once(start: S, expected: S) -> None:
    assert next_status(start, A.ANSWER_NO) is expected


@pytest.mark.parametrize("start", [S.PENDING, S.ACTIVE])
def test_withdraw_from_a_yes(start: S) -> None:
    assert next_status(start, A.WITHDRAW) is S.WITHDRAWN


@pytest.mark.parametrize("start", [S.NONE, S.DECLINED, S.WITHDRAWN, S.EXPIRED])
def test_withdraw_without_a_yes_changes_nothing(start: S) -> None:
    assert next_status(start, A.WITHDRAW) is start


def test_only_a_yes_waiting_for_an_answer_expires() -> None:
    assert next_status(S.PENDING, A.EXPIRE) is S.EXPIRED
    assert next_status(S.RECONSENT_REQUIRED, A.EXPIRE) is S.EXPIRED
    waiting = {S.PENDING, S.RECONSENT_REQUIRED}
    assert all(next_status(s, A.EXPIRE) is s for s in S if s not in waiting)


@pytest.mark.parametrize("start", [s for s in S if s is not S.PENDING])
def test_confirm_without_pending_changes_nothing(start: S) -> None:
    assert next_status(start, A.CONFIRM) is start


@pytest.mark.parametrize("start", list(S))
def test_erasure_ends_every_purpose_and_is_always_recorded(start: S) -> None:
    assert next_status(start, A.ERASE) is S.WITHDRAWN
    assert is_recorded(start, A.ERASE)


def test_an_action_that_changes_nothing_is_not_recorded() -> None:
    assert not is_recorded(S.ACTIVE, A.ANSWER_YES)
    assert is_recorded(S.NONE, A.ANSWER_YES)


@pytest.mark.parametrize("start", [S.PENDING, S.ACTIVE])
def test_a_material_change_stops_a_yes_counting(start: S) -> None:
    assert next_status(start, A.REQUIRE_RECONSENT) is S.RECONSENT_REQUIRED
    assert not counts_as_permission(S.RECONSENT_REQUIRED)


@pytest.mark.parametrize("start", [S.NONE, S.DECLINED, S.WITHDRAWN, S.EXPIRED])
def test_a_material_change_never_touches_anyone_who_did_not_say_yes(start: S) -> None:
    assert not is_recorded(start, A.REQUIRE_RECONSENT)


@pytest.mark.parametrize(("action", "expected"), [(A.ANSWER_NO, S.WITHDRAWN), (A.WITHDRAW, S.WITHDRAWN), (A.EXPIRE, S.EXPIRED)])
def test_asked_again_a_no_or_no_answer_ends_it(action: ConsentAction, expected: S) -> None:
    assert next_status(S.RECONSENT_REQUIRED, action) is expected
