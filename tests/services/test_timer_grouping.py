"""Due timers are split into groups with no participant twice: a second due timer must see
what the first did."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consentbot.domain.timers import TimerKind
from consentbot.services.timers import _groups

due_lists = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(1, 6), st.sampled_from(list(TimerKind))),
    max_size=60,
    unique_by=lambda timer: timer[0],
)


@given(due_lists, st.integers(1, 8))
def test_every_timer_once_in_groups_of_at_most_size_without_a_repeated_participant(
    due: list[tuple[int, int, TimerKind]], size: int
) -> None:
    groups = list(_groups(due, size))
    assert sorted(t for group in groups for t in group) == sorted(due)
    for group in groups:
        assert 0 < len(group) <= size
        assert len({participant for _, participant, _ in group}) == len(group)


@given(due_lists, st.integers(1, 8))
def test_one_persons_timers_keep_their_order(due: list[tuple[int, int, TimerKind]], size: int) -> None:
    flattened = [t for group in _groups(due, size) for t in group]
    for person in {participant for _, participant, _ in due}:
        assert [t for t in flattened if t[1] == person] == [t for t in due if t[1] == person]


def test_distinct_people_fill_groups_in_order() -> None:
    due = [(n, n, TimerKind.CONFIRM_REMINDER) for n in range(7)]
    assert [len(group) for group in _groups(due, 3)] == [3, 3, 1]
    assert [t for group in _groups(due, 3) for t in group] == due
