"""The research team's whole year, as the issue's "done" describes it.

The study passes its own checker and is published; a cohort is invited in one call; people
answer in their languages; the team changes one purpose, sees with a dry run who must be
asked again, and publishes. Exactly those people are asked, each in their language; the API
shows reconsent_required until each answers, and the ledger names the version of the text
each person agreed to.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from consentbot import keys
from consentbot.conversation.vocabulary import Command
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient
from tests.support.cli import consentbot
from tests.support.content import sample_copy
from tests.support.journey import STUDY, ResearchSystem, words
from tests.support.study_changes import CHANGE_EN, declare_change
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

Loops = Callable[[], Awaitable[None]]
COMMERCIAL = "commercial-partner"
COHORT = {  # reference: (number, language)
    "R-en-yes": ("+447400900801", "en"),
    "R-pl-yes": ("+447400900802", "pl"),
    "R-cy-no": ("+447400900803", "cy"),
    "R-ur-quiet": ("+447400900804", "ur"),
}


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.with_(content_dir=sample_copy(tmp_path / "content"))


async def test_check_publish_invite_change_and_ask_again_exactly_those_concerned(
    client: AppClient,
    settings: Settings,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
    run_loops: Loops,
) -> None:
    checked = consentbot(settings, "content", "check", "--format", "json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report: dict[str, Any] = json.loads(checked.stdout)
    assert [s["id"] for s in report["studies"]] == [STUDY]
    assert not [p for p in report["studies"][0]["problems"] if p["severity"] == "error"]

    research = await ResearchSystem.register(client)
    batch = [
        {"phone": number, "reference": ref, "language": language}
        for ref, (number, language) in COHORT.items()
    ]
    response = await client.post(
        f"/api/v1/studies/{STUDY}/invitations/batch",
        json={"invitations": batch},
        headers=research.headers,
    )
    assert response.status == 202, await response.text()
    assert await response.json() == {"accepted": 4, "already_invited": 0}
    await run_loops()
    phones = {ref: TwilioPhone(client, fake_twilio, number) for ref, (number, _) in COHORT.items()}

    async def say(ref: str, *commands: str) -> str:
        vocabulary = words(COHORT[ref][1])
        for command in commands:
            await phones[ref].send(vocabulary.word(Command[command]))
        await run_loops()
        return phones[ref].text()

    for ref in ("R-en-yes", "R-pl-yes"):
        await say(ref, *["YES"] * 6)
    await say("R-cy-no", "YES", "YES", "YES", "NO", "YES", "YES")
    clock.advance(timedelta(days=1, hours=1))
    await run_loops()
    for ref in ("R-en-yes", "R-pl-yes", "R-cy-no"):
        await say(ref, "CONFIRM")
    for phone in phones.values():
        phone.text()
    assert (await research.consent("R-en-yes"))[COMMERCIAL] == "active"

    # The team changes the commercial purpose and looks before it leaps.
    polish = "Kestrel Imaging, firma, chce teraz też testować narzędzie do kolan."
    declare_change(client, explanations={"en": CHANGE_EN, "pl": polish})
    dry = consentbot(
        settings, "content", "publish", "--study", STUDY, "--by", "Dr Ada", "--dry-run"
    )
    assert dry.returncode == 0, dry.stderr
    assert "2 participant(s) asked again" in dry.stdout
    assert f"  {COMMERCIAL}: 2 active" in dry.stdout
    assert (await research.consent("R-en-yes"))[COMMERCIAL] == "active"

    result = await client.app[keys.PUBLISHING].publish(STUDY, "Dr Ada")
    assert result.version == 2
    await client.app[keys.PUBLISHED].check_once()
    await run_loops()
    texts = {ref: phone.text() for ref, phone in phones.items()}
    assert CHANGE_EN in texts["R-en-yes"]
    assert "Kestrel" in texts["R-pl-yes"]
    assert texts["R-cy-no"] == texts["R-ur-quiet"] == ""
    statuses = {ref: (await research.consent(ref))[COMMERCIAL] for ref in COHORT}
    assert statuses == {
        "R-en-yes": "reconsent_required",
        "R-pl-yes": "reconsent_required",
        "R-cy-no": "declined",
        "R-ur-quiet": "none",
    }

    await say("R-en-yes", "YES")
    assert (await research.consent("R-en-yes"))[COMMERCIAL] == "pending"
    assert (await research.consent("R-pl-yes"))[COMMERCIAL] == "reconsent_required"

    # The ledger names the version each answer was given to; the API returns its files.
    events = await research.history("R-en-yes")
    commercial = [e for e in events if e["purpose"] == COMMERCIAL]
    assert [(e["to"], e["content_version"]) for e in commercial][-3:] == [
        ("active", 1),
        ("reconsent_required", 2),
        ("pending", 2),
    ]
    version = await client.get(f"/api/v1/studies/{STUDY}/versions/2", headers=research.headers)
    assert version.status == 200
    published: dict[str, Any] = await version.json()
    assert published["version"] == 2
    english = yaml.safe_load(published["files"]["languages"]["en"])
    assert english["changes"] == CHANGE_EN
