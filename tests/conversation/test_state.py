"""A conversation's place, stored as JSON between messages."""

from __future__ import annotations

import json
from dataclasses import asdict, fields

from hypothesis import given
from hypothesis import strategies as st

from consentbot.conversation.state import ConversationState, Layer

names = st.one_of(st.none(), st.text(min_size=1, max_size=12))
states = st.builds(
    ConversationState,
    layer=st.sampled_from(Layer),
    topic=names,
    asking=names,
    queue=st.lists(st.text(min_size=1, max_size=12), max_size=5).map(tuple),
    changing=st.booleans(),
    asked=st.integers(min_value=0, max_value=10_000),
    round_size=st.integers(min_value=0, max_value=50),
    who_shown=st.integers(min_value=0, max_value=10_000),
)


@given(states)
def test_every_state_reads_back_as_it_was_stored(state: ConversationState) -> None:
    assert ConversationState.from_json(state.to_json()) == state


@given(states)
def test_the_stored_form_holds_every_field_by_name(state: ConversationState) -> None:
    """The same text as the dataclass's own fields give, so a field added later and not
    stored fails here, and states stored before read back unchanged."""
    stored = json.loads(state.to_json())
    assert list(stored) == [field.name for field in fields(ConversationState)]
    assert stored == {**asdict(state), "queue": list(state.queue)}


def test_an_empty_or_unreadable_state_starts_afresh() -> None:
    for raw in (None, "", "not json", "[1, 2]", '{"layer": "nowhere"}', '{"asked": "many"}'):
        assert ConversationState.from_json(raw) == ConversationState()


def test_a_state_stored_before_later_fields_existed_reads_with_their_defaults() -> None:
    old = '{"layer":"topics","topic":null,"asking":"research","queue":["updates"],"changing":false,"asked":1}'
    assert ConversationState.from_json(old) == ConversationState(
        layer=Layer.TOPICS, asking="research", queue=("updates",), asked=1
    )
