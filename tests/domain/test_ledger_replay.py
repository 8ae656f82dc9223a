"""Replaying a ledger through the consent rules: legal histories pass, each kind of forgery is named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from consentbot.domain.cooling_off import CoolingOff
from consentbot.domain.findings import Finding, Severity
from consentbot.domain.ledger_replay import Projection, ReplayEvent, replay
from consentbot.domain.status import ConsentStatus as S
from consentbot.domain.transitions import ConsentAction as A
from consentbot.domain.transitions import is_recorded, next_status

RULES = CoolingOff(timedelta(days=1), timedelta(days=14))
T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)
PURPOSES = ("records-research", "recontact", "updates")


class Ledger:
    """Events as the consent service writes them: only recorded transitions, yeses with windows."""

    def __init__(self, *, windows: bool = True) -> None:
        self.events: list[ReplayEvent] = []
        self.status: dict[str, S] = {}
        self.windows = windows

    def add(self, purpose: str, action: A, at: datetime, level: str | None = None) -> ReplayEvent | None:
        current = self.status.get(purpose, S.NONE)
        if not is_recorded(current, action):
            return None
        target = next_status(current, action)
        pending = target is S.PENDING and self.windows
        event = ReplayEvent(
            id=100 + len(self.events),
            seq=len(self.events) + 1,
            purpose_id=purpose,
            action=action.value,
            from_status=current.value,
            to_status=target.value,
            withdrawal_level=level,
            occurred_at=at,
            confirm_from=RULES.opens_at(at) if pending else None,
            confirm_by=RULES.expires_at(at) if pending else None,
        )
        self.events.append(event)
        self.status[purpose] = target
        return event


def projection_of(events: list[ReplayEvent]) -> dict[str, Projection]:
    """consent_state as LedgerRepository.append leaves it."""
    rows: dict[str, Projection] = {}
    for e in events:
        pending = e.occurred_at if e.to_status == S.PENDING else None
        rows[e.purpose_id] = Projection(e.to_status, e.occurred_at, pending, e.withdrawal_level)
    return rows


def faults(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.severity is Severity.FAULT]


def check(events: list[ReplayEvent], projection: dict[str, Projection] | None = None,
          fallback: CoolingOff | None = RULES) -> list[Finding]:
    return replay(events, projection_of(events) if projection is None else projection, fallback,
                  study="joint-health-records")


def yes_then_confirm(confirm_at: datetime, *, windows: bool = True) -> Ledger:
    ledger = Ledger(windows=windows)
    ledger.add("records-research", A.ANSWER_YES, T0)
    ledger.add("records-research", A.CONFIRM, confirm_at)
    return ledger


def test_a_confirmed_then_withdrawn_history_is_clean() -> None:
    ledger = yes_then_confirm(T0 + timedelta(days=1))
    ledger.add("recontact", A.ANSWER_NO, T0)
    ledger.add("records-research", A.WITHDRAW, T0 + timedelta(days=3), "no-further-use")
    ledger.add("records-research", A.ERASE, T0 + timedelta(days=4), "no-further-use-and-removal")
    assert check(ledger.events) == []


def test_a_confirm_before_the_time_to_think_ended_is_named() -> None:
    ledger = yes_then_confirm(T0 + timedelta(hours=23))
    [finding] = check(ledger.events)
    assert (finding.severity, finding.seq, finding.event_id) == (Severity.FAULT, 2, 101)
    assert "before the time to think of the yes (seq 1) ended at 2026-12-02T10:00:00+00:00" in finding.problem


def test_a_confirm_after_the_yes_lapsed_is_named() -> None:
    [finding] = check(yes_then_confirm(T0 + timedelta(days=15)).events)
    assert finding.seq == 2
    assert "after the yes (seq 1) lapsed" in finding.problem


def test_the_recorded_window_is_what_counts_not_todays_rules() -> None:
    """A study may change its cooling-off later: the window recorded on the yes decides."""
    ledger = yes_then_confirm(T0 + timedelta(hours=2))
    ledger.events[0] = replace(ledger.events[0], confirm_from=T0 + timedelta(hours=1))
    assert check(ledger.events) == []


def test_legacy_yes_without_a_window_falls_back_to_the_studys_rules() -> None:
    assert check(yes_then_confirm(T0 + timedelta(days=1), windows=False).events) == []
    [early] = check(yes_then_confirm(T0 + timedelta(hours=1), windows=False).events)
    assert early.seq == 2
    assert "before the time to think" in early.problem


def test_legacy_confirm_of_an_unknown_study_is_a_warning() -> None:
    [finding] = check(yes_then_confirm(T0 + timedelta(hours=1), windows=False).events, fallback=None)
    assert finding.severity is Severity.WARNING
    assert finding.seq == 2
    assert "study 'joint-health-records' is not in the loaded content" in finding.problem


def test_a_yes_whose_window_was_removed_after_windows_were_recorded_is_a_fault() -> None:
    ledger = Ledger()
    ledger.add("records-research", A.ANSWER_YES, T0)
    second = ledger.add("recontact", A.ANSWER_YES, T0)
    assert second is not None
    ledger.events[1] = replace(second, confirm_from=None, confirm_by=None)
    [finding] = check(ledger.events)
    assert finding.seq == 2
    assert "without its window" in finding.problem


def test_half_a_window_and_a_window_before_the_yes_are_faults() -> None:
    ledger = Ledger()
    yes = ledger.add("records-research", A.ANSWER_YES, T0)
    assert yes is not None
    ledger.events[0] = replace(yes, confirm_by=None)
    assert "only half" in check(ledger.events)[0].problem
    ledger.events[0] = replace(yes, confirm_from=T0 - timedelta(days=1))
    assert "out of order" in check(ledger.events)[0].problem


def test_an_illegal_transition_is_named() -> None:
    ledger = Ledger()
    ledger.add("records-research", A.ANSWER_YES, T0)
    ledger.events.append(ReplayEvent(7, 2, "records-research", "answer-yes", "pending", "active", None, T0))
    found = faults(check(ledger.events))
    assert [(f.seq, f.event_id) for f in found] == [(2, 7)]
    assert "answer-yes from pending changes nothing and is never recorded" in found[0].problem


def test_a_wrong_target_and_a_wrong_start_are_named() -> None:
    wrong_target = [ReplayEvent(1, 1, "updates", "answer-no", "none", "withdrawn", None, T0)]
    assert "answer-no from none leads to declined, not withdrawn" in check(wrong_target)[0].problem
    wrong_start = [ReplayEvent(1, 1, "updates", "withdraw", "active", "withdrawn", None, T0)]
    assert "purpose 'updates' was none, but the event starts from active" in check(wrong_start)[0].problem


def test_unknown_values_are_named_once() -> None:
    events = [ReplayEvent(1, 1, "updates", "approve", "none", "active", None, T0)]
    assert [f.problem for f in check(events)] == ["unknown action 'approve'"]


def test_projection_drift_names_purpose_and_field() -> None:
    ledger = yes_then_confirm(T0 + timedelta(days=1))
    rows = projection_of(ledger.events)
    rows["records-research"] = replace(rows["records-research"], status="withdrawn")
    rows["updates"] = Projection("active", T0, None, None)
    found = check(ledger.events, rows)
    assert [f.problem for f in found] == [
        "current consent of purpose 'records-research' does not match the ledger: "
        "status is withdrawn, the ledger gives active",
        "current consent of purpose 'updates' does not match the ledger: "
        "is active but the ledger has no event for it",
    ]
    assert all(f.seq is None for f in found)
    del rows["updates"], rows["records-research"]
    assert "is missing, but the ledger says active" in check(ledger.events, rows)[0].problem


# --------------------------------------------------------------------------
# Property: every legal history replays clean; one mutated event is named.

steps = st.lists(
    st.tuples(
        st.sampled_from(PURPOSES),
        st.sampled_from(list(A)),
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    ),
    min_size=1,
    max_size=30,
)


@st.composite
def legal_ledgers(draw: st.DrawFn, *, with_confirm: bool = False) -> list[ReplayEvent]:
    """What the service could have written; the first ``legacy`` yeses predate recorded windows."""
    legacy = draw(st.integers(min_value=0, max_value=10))
    ledger = Ledger(windows=legacy == 0)
    now = T0
    yes_at: dict[str, datetime] = {}
    script = draw(steps)
    if with_confirm:  # somewhere: no, yes, then confirm once the time to think is over
        where = draw(st.integers(min_value=0, max_value=len(script)))
        purpose = draw(st.sampled_from(PURPOSES))
        script[where:where] = [(purpose, A.ANSWER_NO, timedelta(0)), (purpose, A.ANSWER_YES, timedelta(0)),
                         (purpose, A.CONFIRM, RULES.period)]
    for purpose, action, wait in script:
        now += wait
        at = now
        if action is A.CONFIRM and ledger.status.get(purpose) is S.PENDING:
            opens, closes = RULES.opens_at(yes_at[purpose]), RULES.expires_at(yes_at[purpose])
            if at >= closes:
                continue  # the service would have expired it
            at = now = max(at, opens)
        event = ledger.add(purpose, action, at)
        if event is not None and event.to_status == S.PENDING:
            yes_at[purpose] = at
            legacy -= 1
            ledger.windows = legacy <= 0
    return ledger.events


@given(legal_ledgers())
def test_legal_histories_replay_clean(events: list[ReplayEvent]) -> None:
    assert check(events) == []


@given(events=legal_ledgers(), data=st.data())
def test_a_changed_status_or_action_is_named_at_that_event(events: list[ReplayEvent], data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(events) - 1) if events else st.nothing())
    original = events[index]
    field = data.draw(st.sampled_from(["from_status", "to_status", "action"]))
    if field == "action":
        start = S(original.from_status)
        value = data.draw(
            st.sampled_from(
                [a.value for a in A if not is_recorded(start, a) or next_status(start, a).value != original.to_status]
            )
        )
    else:
        value = data.draw(st.sampled_from([s.value for s in S if s.value != getattr(original, field)]))
    projection = projection_of(events)
    changed: ReplayEvent = replace(original, **{field: value})  # type: ignore[arg-type]
    events[index] = changed
    found = faults(check(events, projection))
    assert found, f"{field} of seq {original.seq} set to {value} went unnoticed"
    assert min(f.seq for f in found if f.seq is not None) == original.seq


@given(events=legal_ledgers(with_confirm=True), data=st.data(), early=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=1)))
def test_a_confirm_moved_before_its_window_is_named(
    events: list[ReplayEvent], data: st.DataObject, early: timedelta
) -> None:
    confirms = [i for i, e in enumerate(events) if e.action == A.CONFIRM]
    index = data.draw(st.sampled_from(confirms))
    yes = next(e for e in reversed(events[:index]) if e.purpose_id == events[index].purpose_id)
    opens = yes.confirm_from or RULES.opens_at(yes.occurred_at)
    events[index] = replace(events[index], occurred_at=opens - early)
    projection = projection_of(events)
    found = faults(check(events, projection))
    assert [f.seq for f in found] == [events[index].seq]
    assert "before the time to think" in found[0].problem
