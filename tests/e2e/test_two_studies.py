"""One number in two studies: every message reaches the study it is about, or we ask."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient
from tests.support.content import SECOND_STUDY, SECOND_TITLE, with_second_study
from tests.support.journey import STUDY, ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

Loops = Callable[[], Awaitable[None]]
NUMBER = "+447400900501"
JOINTS_TITLE = "Northern Pennines Joint Health Records"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.with_(content_dir=with_second_study(tmp_path / "content"))


async def enrol_in_both(client: AppClient) -> tuple[ResearchSystem, ResearchSystem]:
    joints = await ResearchSystem.register(client, STUDY)
    hips = await ResearchSystem.register(client, SECOND_STUDY)
    await joints.invite(NUMBER, "J-1")
    await hips.invite(NUMBER, "H-1")
    return joints, hips


async def test_interleaved_studies_each_get_their_own_answers(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    joints, hips = await enrol_in_both(client)
    phone = TwilioPhone(client, fake_twilio, NUMBER)
    await run_loops()
    invitations = phone.text()
    assert JOINTS_TITLE in invitations
    assert SECOND_TITLE in invitations

    async def say(text: str) -> str:
        await phone.send(text)
        await run_loops()
        return phone.text()

    # The HIPS invitation came last, so a bare YES is about HIPS.
    assert "Question 1 of 2" in await say("YES")
    assert "Question 2 of 2" in await say("YES")
    assert "do not count yet" in await say("YES")
    assert await hips.consent("H-1") == {"records-research": "pending", "updates": "pending"}
    assert set((await joints.consent("J-1")).values()) == {"none"}

    clock.advance(timedelta(hours=1))
    assert JOINTS_TITLE in await say("JOINTS")
    assert "Question 1 of 5" in await say("YES")
    for answer in ("YES", "NO", "NO", "YES", "YES"):
        await say(answer)
    assert (await joints.consent("J-1"))["records-research"] == "pending"

    # WITHDRAW could mean either study: ask, naming each one's word, and change nothing.
    asked = await say("WITHDRAW")
    assert "WITHDRAW JOINTS or WITHDRAW HIPS" in asked
    assert (await hips.consent("H-1"))["records-research"] == "pending"
    assert (await joints.consent("J-1"))["records-research"] == "pending"

    # HIPS's reminder comes first; the CONFIRM it prompts is about HIPS only.
    clock.advance(timedelta(days=1) - timedelta(minutes=30))
    await run_loops()
    assert SECOND_TITLE in phone.text()
    assert "These choices now count" in await say("CONFIRM")
    assert (await hips.consent("H-1"))["records-research"] == "active"
    assert (await joints.consent("J-1"))["records-research"] == "pending"

    clock.advance(timedelta(hours=1))
    await run_loops()
    assert JOINTS_TITLE in phone.text()
    await say("CONFIRM")
    assert (await joints.consent("J-1"))["records-research"] == "active"

    choices = await say("CHOICES")
    assert JOINTS_TITLE in choices
    assert SECOND_TITLE in choices

    # A keyword always decides, before or after the word.
    await say("HIPS WITHDRAW")
    assert set((await hips.consent("H-1")).values()) == {"withdrawn"}
    assert (await joints.consent("J-1"))["records-research"] == "active"
    # Only one study is still open now, so WITHDRAW can only mean JOINTS.
    await say("WITHDRAW")
    assert (await joints.consent("J-1"))["records-research"] == "withdrawn"


async def test_stop_silences_every_study_and_start_brings_them_back(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    joints, hips = await enrol_in_both(client)
    phone = TwilioPhone(client, fake_twilio, NUMBER)
    for text in ("YES", "YES", "YES", "JOINTS", "YES", "YES", "YES", "YES", "YES", "YES"):
        await phone.send(text)
    await run_loops()
    phone.new_messages()
    await phone.send("STOP HIPS")  # STOP is about the number, whatever it names
    await run_loops()
    assert "no more messages" in phone.text()
    clock.advance(timedelta(days=2))
    await run_loops()
    assert phone.new_messages() == []  # neither study's reminder went out
    assert (await hips.consent("H-1"))["records-research"] == "pending"
    assert (await joints.consent("J-1"))["records-research"] == "pending"
    await phone.send("START")
    await phone.send("CONFIRM JOINTS")
    await run_loops()
    assert "These choices now count" in phone.text()
    assert (await joints.consent("J-1"))["records-research"] == "active"
    assert (await hips.consent("H-1"))["records-research"] == "pending"


async def test_a_study_not_joined_is_not_joined_by_a_command(
    client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    joints = await ResearchSystem.register(client, STUDY)
    await joints.invite(NUMBER, "J-1")
    phone = TwilioPhone(client, fake_twilio, NUMBER)
    await phone.send("WITHDRAW HIPS")
    await run_loops()
    assert "You are not taking part in HIPS" in phone.new_messages()[-1]
    await phone.send("YES HIPS")  # a keyword with YES joins, then starts the questions
    await run_loops()
    assert "Question 1 of 2" in phone.text()
