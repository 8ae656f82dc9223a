"""Property: no sequence of messages, timers and waiting makes a purpose active
without an explicit YES followed by an explicit CONFIRM after cooling-off."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from consentbot.content.model import Reconsent, StudyCatalogue, StudyChanges
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.normalise import normalise
from consentbot.conversation.proactive import on_timer
from consentbot.conversation.study_changes import study_changed
from consentbot.conversation.vocabulary import Command
from consentbot.domain.status import ConsentStatus
from consentbot.domain.timers import TimerKind
from tests.conversation.conftest import Conversation
from tests.support.journey import PURPOSES, STUDY

WORDS = [
    "YES", "yes!", "NO", "CONFIRM", "confirm.", "MORE", "1", "4", "9", "CHANGE", "WITHDRAW", "LATER",
    "HELP", "STOP", "START", "CHOICES", "LANGUAGE", "JOINTS", "polski", "English", "TAK", "NIE",
    "POTWIERDZAM", "IE", "NA", "ہاں", "نہیں", "", "   ", "yes please", "confirm yes",
]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("say"), st.one_of(st.sampled_from(WORDS), st.text(max_size=12))),
        st.tuples(st.just("wait"), st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=20))),
        st.tuples(st.just("timer"), st.sampled_from(list(TimerKind))),
        st.tuples(
            st.just("change"),
            st.builds(
                StudyChanges,
                st.lists(st.sampled_from(PURPOSES), min_size=1, max_size=3, unique=True).map(tuple),
                st.sampled_from(list(Reconsent)),
            ),
        ),
    ),
    max_size=40,
)


REACHES_ACTIVE = [
    ("say", "YES"), *[("say", "YES")] * 5, ("say", "CONFIRM"), ("wait", timedelta(days=1)),
    ("timer", TimerKind.CONFIRM_REMINDER), ("say", "CONFIRM"), ("say", "CHANGE"), ("say", "NO"),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=steps)
@example(script=REACHES_ACTIVE)
def test_active_only_by_yes_then_confirm_after_cooling_off(
    studies: StudyCatalogue, lexicon: Lexicon, script: list[tuple[str, object]]
) -> None:
    study = studies.get(STUDY)
    assert study is not None
    person = Conversation(study, lexicon)
    yes_at: dict[str, object] = {}
    reached_active: set[str] = set()
    for action, value in script:
        if action == "wait":
            assert isinstance(value, timedelta)
            person.now += value
            continue
        before = {p: c for p, c in person.consent.items()}
        if action == "change":
            assert isinstance(value, StudyChanges)
            turn = person.apply(study_changed(person.context(), person.state, value))
            for change in turn.changes:
                # A published change only ever takes a yes away, and only a changed one.
                assert change.to_status is ConsentStatus.RECONSENT_REQUIRED
                assert change.from_status in (ConsentStatus.PENDING, ConsentStatus.ACTIVE)
                assert change.purpose in value.purposes
                assert value.reconsent is Reconsent.REQUIRED
            continue
        if action == "timer":
            assert isinstance(value, TimerKind)
            turn = person.apply(on_timer(person.context(), person.state, value))
            assert all(change.to_status is not ConsentStatus.ACTIVE for change in turn.changes)
            continue
        assert isinstance(value, str)
        vocabulary = lexicon.vocabulary(person.language)
        command = vocabulary.commands.get(normalise(value))
        person.send(value)
        assert person.last is not None
        for change in person.last.changes:
            if change.to_status is ConsentStatus.PENDING:
                assert command is Command.YES, f"{value!r} made {change.purpose} pending"
                yes_at[change.purpose] = person.now
            if change.to_status is ConsentStatus.ACTIVE:
                assert command is Command.CONFIRM, f"{value!r} made {change.purpose} active"
                prior = before[change.purpose]
                assert prior.status is ConsentStatus.PENDING
                assert prior.pending_since is not None
                assert person.now >= prior.pending_since + study.cooling_off.period
                assert yes_at[change.purpose] == prior.pending_since
                reached_active.add(change.purpose)
    if script == REACHES_ACTIVE:
        # The pinned example really exercises the rule: all five became active, and a
        # no to the required purpose then withdrew every one of them at once.
        assert reached_active == set(study.purpose_ids)
        assert set(person.statuses().values()) == {"withdrawn"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(st.sampled_from(WORDS), max_size=30))
def test_stop_and_start_never_change_consent(
    studies: StudyCatalogue, lexicon: Lexicon, script: list[str]
) -> None:
    study = studies.get(STUDY)
    assert study is not None
    person = Conversation(study, lexicon)
    for text in script:
        person.send(text)
    for word in ("STOP", "START", "stop now", "UNSUBSCRIBE"):
        before = person.statuses()
        person.send(word)
        assert person.statuses() == before
