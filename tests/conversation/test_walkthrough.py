"""The preview's walk through a whole conversation: the real engine, carried as the service would."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from consentbot.content.model import StudyCatalogue
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.outcome import ConsentChange
from consentbot.conversation.vocabulary import Command
from consentbot.conversation.walkthrough import (
    StepKind,
    WalkthroughError,
    consent_after,
    walk,
)
from consentbot.domain.cooling_off import CoolingOff, PurposeConsent
from consentbot.domain.status import ConsentStatus
from consentbot.domain.transitions import ConsentAction
from consentbot.services.preview import sms_preview
from tests.support.journey import STUDY

START = datetime(2026, 3, 3, 10, tzinfo=UTC)


def test_consent_after_is_what_the_ledger_projects() -> None:
    yes_at, confirm_at = START, START + timedelta(days=1)
    said_yes = ConsentChange(
        "updates", ConsentAction.ANSWER_YES, ConsentStatus.NONE, ConsentStatus.PENDING
    )
    confirmed = ConsentChange(
        "updates", ConsentAction.CONFIRM, ConsentStatus.PENDING, ConsentStatus.ACTIVE
    )
    pending = consent_after({}, (said_yes,), yes_at)
    assert pending == {"updates": PurposeConsent(ConsentStatus.PENDING, yes_at, yes_at)}
    active = consent_after(pending, (confirmed,), confirm_at)
    assert active == {"updates": PurposeConsent(ConsentStatus.ACTIVE, confirm_at, None)}
    assert pending["updates"].status is ConsentStatus.PENDING, "the input is not changed"


@pytest.mark.parametrize("language", ["en", "cy", "pl", "ur"])
def test_the_walk_sends_the_languages_own_words_and_ends_with_every_purpose_active(
    studies: StudyCatalogue, lexicon: Lexicon, language: str
) -> None:
    study = studies.get(STUDY)
    assert study is not None
    journey = walk(study, language, lexicon, START)
    topics, purposes = len(study.text(language).topics), len(study.purpose_ids)
    expected = (
        [Command.MORE] * (1 + 2 * topics)
        + [Command.YES]
        + [Command.MORE, Command.YES] * purposes
        + [Command.CONFIRM]
    )
    said = [step for step in journey.steps if step.kind is StepKind.SAID]
    assert [step.command for step in said] == expected
    vocabulary = lexicon.vocabulary(language)
    assert [step.said for step in said] == [vocabulary.word(command) for command in expected]
    assert journey.steps[0].kind is StepKind.INVITATION
    assert all(step.turn.replies for step in journey.steps), "every step says something"
    assert journey.state.asking is None
    assert {purpose: c.status for purpose, c in journey.consent.items()} == dict.fromkeys(
        study.purpose_ids, ConsentStatus.ACTIVE
    )


def test_the_reminder_fires_when_the_last_answer_can_be_confirmed(
    studies: StudyCatalogue, lexicon: Lexicon
) -> None:
    study = studies.get(STUDY)
    assert study is not None
    steps = walk(study, "en", lexicon, START).steps
    reminder = next(step for step in steps if step.kind is StepKind.REMINDER)
    last_answer = steps[steps.index(reminder) - 1]
    assert last_answer.command is Command.YES
    assert reminder.at == study.cooling_off.opens_at(last_answer.at)
    assert steps[-1].command is Command.CONFIRM
    assert steps[-1].at > reminder.at


def test_a_reminder_due_in_quiet_hours_reaches_the_person_when_they_end(
    studies: StudyCatalogue, lexicon: Lexicon
) -> None:
    study = studies.get(STUDY)
    assert study is not None
    assert study.quiet_hours is not None
    # Twelve hours to think from a morning's answers: the reminder falls due in the evening.
    evening = replace(
        study, cooling_off=CoolingOff(timedelta(hours=12), study.cooling_off.confirm_within)
    )
    journey = walk(evening, "en", lexicon, START)
    reminder = next(step for step in journey.steps if step.kind is StepKind.REMINDER)
    assert study.quiet_hours.contains(reminder.at.astimezone(study.timezone).time())
    ends = study.quiet_hours.next_allowed(reminder.at, study.timezone)
    assert journey.steps[-1].at > ends
    preview = sms_preview(evening, "en", journey, max_segments=6, link=None)
    held = next(step for step in preview.steps if step.step is reminder)
    assert held.sent_at == ends


def test_a_language_the_study_does_not_offer_is_refused(
    studies: StudyCatalogue, lexicon: Lexicon
) -> None:
    study = studies.get(STUDY)
    assert study is not None
    with pytest.raises(WalkthroughError, match="not written in 'de'"):
        walk(study, "de", lexicon, START)
