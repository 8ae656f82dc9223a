"""Conversation rules, one behaviour per test."""

from __future__ import annotations

from dataclasses import replace

from consentbot.conversation.engine import respond
from consentbot.conversation.outcome import (
    CancelTimers,
    RevokeLinks,
    ScheduleTimer,
    SetLanguage,
    StartMessages,
)
from consentbot.conversation.state import Layer
from consentbot.domain.timers import TimerKind
from tests.conversation.conftest import Conversation


def test_invitation_is_layer_one(conversation: Conversation) -> None:
    text = conversation.invite()
    assert conversation.study.text("en").summary in text
    assert "MORE" in text
    assert "YES" in text
    assert "STOP" in text
    assert conversation.state.layer is Layer.INVITATION


def test_more_goes_one_layer_deeper_each_time(conversation: Conversation) -> None:
    en = conversation.study.text("en")
    conversation.invite()
    topics = conversation.send("MORE")
    assert "1. " + en.topics[0].title in topics
    assert f"{len(en.topics)}. " in topics
    assert en.topics[2].summary in conversation.send("3")
    assert en.topics[2].detail in conversation.send("more")
    assert en.topics[3].summary in conversation.send("MORE")


def test_last_topic_detail_then_back_to_the_list(conversation: Conversation) -> None:
    en = conversation.study.text("en")
    conversation.send(str(len(en.topics)))
    assert "last topic" in conversation.send("MORE")
    assert "1. " in conversation.send("MORE")


def test_topic_numbers_out_of_range_and_other_digits(conversation: Conversation) -> None:
    en = conversation.study.text("en")
    count = len(en.topics)
    assert f"1 to {count}" in conversation.send(str(count + 1))
    assert en.topics[1].summary in conversation.send("۲")  # Urdu digit two


def test_matching_ignores_case_accents_and_punctuation(conversation: Conversation) -> None:
    conversation.invite()
    assert "Question 1 of 5" in conversation.send("  yés!! ")


def test_whole_message_must_match_so_no_idea_is_not_no(conversation: Conversation) -> None:
    conversation.send("YES")
    reply = conversation.send("no idea what this means")
    assert "nothing has changed" in reply
    assert "reply NO on its own" in reply
    assert conversation.last is not None
    assert conversation.last.changes == ()


def test_yes_starts_questions_required_first(conversation: Conversation) -> None:
    reply = conversation.send("YES")
    assert conversation.study.text("en").purposes["records-research"].question in reply
    assert "need to say yes to this one" in reply
    assert conversation.state.asking == "records-research"


def test_more_during_a_question_explains_it(conversation: Conversation) -> None:
    conversation.send("YES")
    explanation = conversation.study.text("en").purposes["records-research"].explanation
    assert explanation in conversation.send("MORE")
    assert conversation.state.asking == "records-research"


def test_answers_become_pending_and_schedule_reminder_and_expiry(conversation: Conversation) -> None:
    conversation.send("YES")
    for answer in ["YES", "NO", "YES", "NO"]:
        conversation.send(answer)
    reply = conversation.send("YES")
    assert "do not count yet" in reply
    assert "CONFIRM" in reply
    assert conversation.statuses() == {
        "records-research": "pending", "social-care-linkage": "declined",
        "commercial-partner": "pending", "recontact": "declined", "updates": "pending",
    }
    assert conversation.last is not None
    kinds = {e.kind for e in conversation.last.effects if isinstance(e, ScheduleTimer)}
    assert kinds == {TimerKind.CONFIRM_REMINDER, TimerKind.EXPIRY}


def test_no_to_the_invitation_declines_the_study(conversation: Conversation) -> None:
    conversation.invite()
    assert "said no to taking part" in conversation.send("NO")
    assert conversation.statuses()["records-research"] == "declined"


def test_no_out_of_context_after_answers_changes_nothing(conversation: Conversation) -> None:
    for answer in ["YES", "YES", "NO", "NO", "NO", "NO"]:
        conversation.send(answer)
    before = dict(conversation.statuses())
    assert "no question waiting" in conversation.send("NO")
    assert conversation.statuses() == before


def test_withdraw_is_immediate_and_cancels_reminders(conversation: Conversation) -> None:
    for answer in ["YES", "YES", "YES", "NO", "NO", "NO"]:
        conversation.send(answer)
    reply = conversation.send("WITHDRAW")
    assert "JOINTS" in reply
    assert conversation.study.contact.phone in reply
    assert conversation.statuses()["records-research"] == "withdrawn"
    assert conversation.statuses()["social-care-linkage"] == "withdrawn"
    assert conversation.last is not None
    assert any(isinstance(e, CancelTimers) and TimerKind.CONFIRM_REMINDER in e.kinds for e in conversation.last.effects)


def test_withdraw_with_nothing_agreed(conversation: Conversation) -> None:
    assert "nothing to withdraw" in conversation.send("WITHDRAW")
    assert conversation.last is not None
    assert conversation.last.changes == ()


def test_stop_by_first_word_and_start(conversation: Conversation) -> None:
    reply = conversation.send("Stop texting me")
    assert conversation.stopped
    assert "have not changed" in reply
    assert conversation.last is not None
    assert conversation.last.replies[0].always
    conversation.send("JOINTS")
    assert conversation.stopped
    conversation.send("unstop")
    assert not conversation.stopped


def test_language_by_own_name_english_name_or_code(conversation: Conversation) -> None:
    for word, code in [("polski", "pl"), ("Welsh", "cy"), ("UR", "ur"), ("Cymraeg", "cy"), ("English", "en")]:
        conversation.send(word)
        assert conversation.language == code
        assert conversation.last is not None
        assert SetLanguage(code) in conversation.last.effects


def test_language_list_names_each_language_in_itself(conversation: Conversation) -> None:
    reply = conversation.send("LANGUAGE")
    assert "Cymraeg" in reply
    assert "polski" in reply
    assert "اردو" in reply


def test_later_schedules_a_reminder(conversation: Conversation) -> None:
    conversation.send("LATER")
    assert conversation.last is not None
    (timer,) = [e for e in conversation.last.effects if isinstance(e, ScheduleTimer)]
    assert timer.kind is TimerKind.LATER
    assert timer.due_at == conversation.now + conversation.study.remind_later


def test_help_gives_contact_and_keywords(conversation: Conversation) -> None:
    reply = conversation.send("info")
    assert conversation.study.contact.email in reply
    assert "WITHDRAW" in reply


def test_keyword_resumes_a_question(conversation: Conversation) -> None:
    conversation.send("YES")
    conversation.send("YES")
    reply = conversation.send("joints")
    assert "Welcome back" in reply
    assert "Question 2 of 5" in reply


def test_numbers_keep_their_order_in_right_to_left_replies(conversation: Conversation) -> None:
    phone = conversation.study.contact.phone
    assert f"\u2066{phone}\u2069" not in conversation.send("HELP")  # English: unchanged, GSM-7
    conversation.send("اردو")
    reply = conversation.send("HELP")
    assert f"\u2066{phone}\u2069" in reply
    assert f"\u2066{conversation.study.contact.email}\u2069" in reply


def test_a_questioned_yes_changes_nothing_and_names_the_word(conversation: Conversation) -> None:
    conversation.send("YES")
    reply = conversation.send("yes?")
    assert "looks like a question" in reply
    assert "reply YES on its own" in reply
    assert conversation.last is not None
    assert conversation.last.changes == ()
    assert conversation.statuses()["records-research"] == "none"


def test_a_single_letter_is_not_an_answer(conversation: Conversation) -> None:
    conversation.send("YES")
    assert "reply YES in full" in conversation.send("y")
    assert conversation.statuses()["records-research"] == "none"


def test_a_web_answer_to_an_old_question_is_not_applied(conversation: Conversation) -> None:
    conversation.send("YES")
    first = conversation.state.question_id
    conversation.send("YES", seen_question=first)  # question 1 answered as seen
    assert conversation.statuses()["records-research"] == "pending"
    second = conversation.state.question_id
    assert second != first
    # A second click on the first question's page: it must not answer question 2.
    reply = conversation.send("NO", seen_question=first)
    assert "moved on" in reply
    assert "Question 2 of 5" in reply
    assert conversation.statuses()["social-care-linkage"] == "none"
    conversation.send("NO", seen_question=second)
    assert conversation.statuses()["social-care-linkage"] == "declined"


def test_the_same_purpose_asked_again_is_another_question(conversation: Conversation) -> None:
    conversation.send("YES")
    first = conversation.state.question_id
    conversation.send("CHANGE")
    assert conversation.state.asking == "records-research"
    assert conversation.state.question_id != first


def test_start_where_only_the_phone_may_lift_a_stop(conversation: Conversation) -> None:
    conversation.send("STOP")
    intent = conversation.lexicon.read("START", ["en"], [conversation.study.id])
    ctx = replace(conversation.context(), can_start=False)
    turn = respond(ctx, conversation.state, intent)
    assert not any(isinstance(effect, StartMessages) for effect in turn.effects)
    assert "text START to us from it" in turn.replies[0].text


def test_questions_invitations_and_deadlines_prompt_but_topics_do_not(conversation: Conversation) -> None:
    conversation.invite()
    assert conversation.last is not None
    assert conversation.last.prompts
    conversation.send("MORE")
    assert not conversation.last.prompts
    conversation.send("YES")
    assert conversation.last.prompts  # question 1
    for _ in range(5):
        conversation.send("YES")
    assert conversation.last.prompts  # "you can confirm from ..."


def test_leaving_revokes_personal_links(conversation: Conversation) -> None:
    conversation.send("YES")
    conversation.send("YES")
    conversation.send("WITHDRAW")
    assert conversation.last is not None
    assert any(isinstance(effect, RevokeLinks) for effect in conversation.last.effects)
    conversation.send("STOP")
    assert any(isinstance(effect, RevokeLinks) for effect in conversation.last.effects)
