"""A published change, decided by the engine alone: who is asked again, what they read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from consentbot.content.model import Reconsent, StudyChanges
from consentbot.conversation.outcome import ScheduleTimer
from consentbot.conversation.proactive import on_timer
from consentbot.conversation.study_changes import study_changed
from consentbot.domain.status import ConsentStatus
from consentbot.domain.timers import TimerKind
from consentbot.domain.transitions import ConsentAction
from tests.conversation.conftest import Conversation

COMMERCIAL = "commercial-partner"
ASK_AGAIN = StudyChanges((COMMERCIAL,), Reconsent.REQUIRED)
EXPLAINED = "Kestrel Imaging now wants to test a knee tool as well."


def agreed(person: Conversation, *, confirm: bool) -> None:
    person.invite()
    for _ in range(6):
        person.send("YES")
    if confirm:
        person.now += person.study.cooling_off.period
        person.send("CONFIRM")
    # The text a team wrote for the new version (the sample study has no change).
    texts = {
        code: replace(text, changes=EXPLAINED if code == "en" else None)
        for code, text in person.study.texts.items()
    }
    person.study = replace(person.study, version=2, texts=texts, changes=ASK_AGAIN)


def change(person: Conversation, changes: StudyChanges = ASK_AGAIN) -> str:
    turn = person.apply(study_changed(person.context(), person.state, changes))
    return "\n\n".join(reply.text for reply in turn.replies)


def test_an_active_yes_stops_counting_and_is_asked_again(conversation: Conversation) -> None:
    agreed(conversation, confirm=True)
    text = change(conversation)
    assert conversation.statuses()[COMMERCIAL] == "reconsent_required"
    assert {s for p, s in conversation.statuses().items() if p != COMMERCIAL} == {"active"}
    assert EXPLAINED in text
    assert "Question 1 of 1" in text
    assert conversation.state.asking == COMMERCIAL
    turn = conversation.last
    assert turn is not None
    assert turn.prompts
    (event,) = turn.changes
    assert event.action is ConsentAction.REQUIRE_RECONSENT
    deadline = conversation.now + conversation.study.cooling_off.confirm_within
    assert ScheduleTimer(TimerKind.RECONSENT_EXPIRY, deadline) in turn.effects


def test_a_translation_without_the_explanation_falls_back_to_the_default(
    conversation: Conversation,
) -> None:
    conversation.language = "pl"
    agreed(conversation, confirm=False)
    assert EXPLAINED in change(conversation)


def test_nobody_who_did_not_say_yes_hears_anything(conversation: Conversation) -> None:
    conversation.invite()
    conversation.send("YES")
    conversation.send("YES")
    conversation.send("NO")
    conversation.send("NO")  # the company: no
    assert change(conversation) == ""
    assert conversation.last is not None
    assert conversation.last.changes == ()
    assert conversation.statuses()[COMMERCIAL] == "declined"


def test_notify_explains_and_changes_nothing(conversation: Conversation) -> None:
    agreed(conversation, confirm=True)
    text = change(conversation, StudyChanges((COMMERCIAL,), Reconsent.NOTIFY))
    assert EXPLAINED in text
    assert "You do not need to do anything" in text
    assert conversation.last is not None
    assert conversation.last.changes == ()
    assert conversation.state.asking is None


def test_yes_cools_off_again_and_no_withdraws(conversation: Conversation) -> None:
    agreed(conversation, confirm=True)
    change(conversation)
    assert "do not count yet" in conversation.send("YES")
    assert conversation.statuses()[COMMERCIAL] == "pending"
    assert "Not yet" in conversation.send("CONFIRM")
    conversation.now += conversation.study.cooling_off.period
    conversation.send("CONFIRM")
    assert conversation.statuses()[COMMERCIAL] == "active"

    change(conversation)
    conversation.send("NO")
    assert conversation.statuses()[COMMERCIAL] == "withdrawn"
    assert conversation.statuses()["records-research"] == "active"


def test_the_required_purpose_asked_again_and_refused_declines_the_study(
    conversation: Conversation,
) -> None:
    agreed(conversation, confirm=True)
    change(conversation, StudyChanges(("records-research",), Reconsent.REQUIRED))
    conversation.send("NO")
    assert set(conversation.statuses().values()) == {"withdrawn"}


def test_half_way_through_the_questions_the_changed_one_comes_first(
    conversation: Conversation,
) -> None:
    conversation.invite()
    for answer in ("YES", "YES", "NO", "YES"):  # the company: yes, then question 4 waits
        conversation.send(answer)
    assert conversation.state.asking == "recontact"
    text = change(conversation)
    assert "Question 1 of 3" in text
    assert conversation.state.asking == COMMERCIAL
    assert "Question 2 of 3" in conversation.send("YES")
    assert conversation.state.asking == "recontact"


def test_no_answer_in_time_expires_it_and_stops_asking(conversation: Conversation) -> None:
    agreed(conversation, confirm=True)
    change(conversation)
    conversation.now += timedelta(days=13)
    early = conversation.apply(
        on_timer(conversation.context(), conversation.state, TimerKind.RECONSENT_EXPIRY)
    )
    assert early.changes == ()
    assert conversation.statuses()[COMMERCIAL] == "reconsent_required"
    conversation.now += timedelta(days=1)
    turn = conversation.apply(
        on_timer(conversation.context(), conversation.state, TimerKind.RECONSENT_EXPIRY)
    )
    assert [(c.purpose, c.to_status) for c in turn.changes] == [(COMMERCIAL, ConsentStatus.EXPIRED)]
    assert conversation.state.asking is None
    assert "did not answer" in turn.replies[0].text
    assert not any(isinstance(effect, ScheduleTimer) for effect in turn.effects)


def test_choices_say_it_in_plain_words(conversation: Conversation) -> None:
    agreed(conversation, confirm=True)
    change(conversation)
    assert "the study changed this, so your earlier yes does not count" in conversation.send(
        "CHOICES"
    )
