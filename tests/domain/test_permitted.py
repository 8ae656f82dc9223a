"""The permitted purposes kept on the participant row for the consent check."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consentbot.domain import permitted
from consentbot.domain.status import ConsentStatus

slugs = st.from_regex(r"[a-z0-9]+(-[a-z0-9]+)*", fullmatch=True)


def test_the_stored_form_is_sorted_with_a_space_around_each_purpose() -> None:
    assert permitted.encode(["updates", "records-research", "updates"]) == " records-research updates "
    assert permitted.encode([]) == ""


def test_a_purpose_is_not_found_inside_a_longer_one() -> None:
    stored = permitted.encode(["records-research"])
    assert permitted.permits(stored, "records-research")
    assert not permitted.permits(stored, "records")
    assert not permitted.permits(stored, "research")
    assert not permitted.permits("", "records-research")


def test_only_active_is_permission() -> None:
    stored = permitted.after_change("", "updates", ConsentStatus.ACTIVE)
    for status in ConsentStatus:
        after = permitted.after_change(stored, "updates", status)
        assert permitted.permits(after, "updates") is (status is ConsentStatus.ACTIVE)
    assert permitted.from_statuses({"a": "active", "b": "pending", "c": "withdrawn"}) == " a "


@given(st.lists(st.tuples(slugs, st.sampled_from(list(ConsentStatus))), max_size=30))
def test_changes_one_by_one_agree_with_the_final_statuses(changes: list[tuple[str, ConsentStatus]]) -> None:
    stored = ""
    for purpose, status in changes:
        stored = permitted.after_change(stored, purpose, status)
    final = {purpose: status.value for purpose, status in changes}
    assert stored == permitted.from_statuses(final)
    assert permitted.decode(stored) == {p for p, s in final.items() if s == "active"}
    for purpose, value in final.items():
        assert permitted.permits(stored, purpose) is (value == "active")
