"""Routing between a number's studies: never leave the wrong study."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consentbot.conversation.intents import Intent
from consentbot.conversation.routing import (
    AskWhichStudy,
    Enrolment,
    Erased,
    EveryStudy,
    Join,
    NotJoined,
    Stranger,
    ToParticipant,
    route,
)
from consentbot.conversation.vocabulary import Command

JOINTS = Enrolment(1, "JOINTS", open=True)
HIPS = Enrolment(2, "HIPS", open=True)
HIPS_DONE = Enrolment(2, "HIPS", open=False)


def say(command: Command | None = None, keyword: str | None = None) -> Intent:
    return Intent(command=command, study_keyword=keyword)


def test_a_bare_answer_goes_to_the_study_we_last_asked_about() -> None:
    assert route(say(Command.CONFIRM), [JOINTS, HIPS], prompted=2) == ToParticipant(2)
    assert route(say(Command.YES), [JOINTS, HIPS], prompted=1) == ToParticipant(1)
    assert route(Intent(number=2), [JOINTS, HIPS], prompted=2) == ToParticipant(2)


def test_withdraw_without_a_keyword_asks_when_two_studies_are_open() -> None:
    assert route(say(Command.WITHDRAW), [JOINTS, HIPS], prompted=2) == AskWhichStudy(
        Command.WITHDRAW, ("JOINTS", "HIPS")
    )
    assert route(say(Command.CHANGE), [JOINTS, HIPS], prompted=1) == AskWhichStudy(
        Command.CHANGE, ("JOINTS", "HIPS")
    )


def test_withdraw_goes_to_the_only_open_study_even_if_another_asked_last() -> None:
    assert route(say(Command.WITHDRAW), [JOINTS, HIPS_DONE], prompted=2) == ToParticipant(1)


def test_a_keyword_always_decides() -> None:
    assert route(say(Command.WITHDRAW, "HIPS"), [JOINTS, HIPS], prompted=1) == ToParticipant(2)
    assert route(say(None, "JOINTS"), [JOINTS, HIPS], prompted=2) == ToParticipant(1)


def test_a_keyword_of_a_study_not_joined() -> None:
    assert route(say(None, "HIPS"), [JOINTS], prompted=1) == Join("HIPS")
    assert route(say(Command.YES, "HIPS"), [JOINTS], prompted=1) == Join("HIPS")
    assert route(say(Command.WITHDRAW, "HIPS"), [JOINTS], prompted=1) == NotJoined("HIPS")


def test_choices_without_a_keyword_shows_every_study() -> None:
    assert route(say(Command.CHOICES), [JOINTS, HIPS], prompted=1) == EveryStudy((1, 2))
    assert route(say(Command.CHOICES), [JOINTS], prompted=1) == ToParticipant(1)


def test_stop_is_about_the_number_whatever_it_names() -> None:
    assert route(say(Command.STOP, "HIPS"), [JOINTS], prompted=None) == ToParticipant(1)
    assert route(say(Command.STOP), [], prompted=None) == Stranger()


def test_without_a_prompt_one_study_is_enough_and_two_need_asking() -> None:
    assert route(say(Command.YES), [JOINTS], prompted=None) == ToParticipant(1)
    assert route(say(Command.YES), [JOINTS, HIPS], prompted=None) == AskWhichStudy(
        Command.YES, ("JOINTS", "HIPS")
    )


def test_an_erased_participation_takes_no_turns() -> None:
    gone = Enrolment(1, "JOINTS", open=False, erased=True)
    assert route(say(None, "JOINTS"), [gone], prompted=1) == Erased(1)
    assert route(say(Command.YES), [gone, HIPS], prompted=1) == ToParticipant(2)
    assert route(say(Command.YES), [gone], prompted=1) == Stranger()


enrolments = st.lists(
    st.builds(Enrolment, st.integers(1, 5), st.sampled_from(["JOINTS", "HIPS", "KNEES"]), st.booleans()),
    max_size=4,
    unique_by=(lambda e: e.participant_id, lambda e: e.keyword),
)


@given(enrolled=enrolments, prompted=st.one_of(st.none(), st.integers(1, 5)), command=st.sampled_from([Command.WITHDRAW, Command.CHANGE]))
def test_property_withdraw_never_guesses_between_open_studies(
    enrolled: list[Enrolment], prompted: int | None, command: Command
) -> None:
    decision = route(say(command), enrolled, prompted)
    open_ids = {e.participant_id for e in enrolled if e.open}
    if len(open_ids) > 1:
        assert isinstance(decision, AskWhichStudy)
    elif len(open_ids) == 1:
        assert decision == ToParticipant(open_ids.pop())


@given(enrolled=enrolments, prompted=st.one_of(st.none(), st.integers(1, 5)), command=st.sampled_from(list(Command)))
def test_property_a_keyword_names_the_study_acted_on(
    enrolled: list[Enrolment], prompted: int | None, command: Command
) -> None:
    for enrolment in enrolled:
        decision = route(say(command, enrolment.keyword), enrolled, prompted)
        if command not in (Command.STOP, Command.START):
            assert decision == ToParticipant(enrolment.participant_id)
