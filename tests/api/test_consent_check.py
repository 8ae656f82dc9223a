"""``POST .../consent-check``: a data pipeline asks which participants it may use today."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentbot.domain.status import ConsentStatus
from consentbot.services.clock import ManualClock
from tests.conftest import START, AppClient, settle
from tests.support.consent_seed import seed_participant
from tests.support.journey import STUDY, ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

URL = f"/api/v1/studies/{STUDY}/consent-check"


async def check(client: AppClient, research: ResearchSystem, body: Any) -> tuple[int, Any]:
    # A stream: aiohttp warns about sending large bodies as bytes.
    data = io.BytesIO(json.dumps(body).encode())
    headers = research.headers | {"Content-Type": "application/json"}
    response = await client.post(URL, data=data, headers=headers)
    return response.status, await response.json()


async def test_sorts_people_by_what_they_said_over_sms(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    confirmed = TwilioPhone(client, fake_twilio, "+447400900101")
    waiting = TwilioPhone(client, fake_twilio, "+447400900102")
    await research.invite(confirmed.number, "P-101")
    await research.invite(waiting.number, "P-102")
    await research.invite("+447400900103", "P-103")
    for phone in (confirmed, waiting):
        for answer in ["YES", "YES", "NO", "YES", "NO", "NO"]:
            await phone.send(answer)
    clock.advance(timedelta(days=1, minutes=1))
    await settle(client.app)
    await confirmed.send("CONFIRM")

    asked = ["P-101", "P-102", "P-103", "P-404", "P-101"]
    status, data = await check(client, research, {"purpose": "records-research", "participants": asked})
    assert status == 200
    assert data == {
        "purpose": "records-research",
        "as_of": (START + timedelta(days=1, minutes=1)).isoformat().replace("+00:00", "Z"),
        "permitted": ["P-101"],
        "not_permitted": ["P-102", "P-103"],
        "unknown": ["P-404"],
    }
    _, data = await check(client, research, {"purpose": "social-care-linkage", "participants": asked})
    assert (data["permitted"], data["not_permitted"]) == ([], ["P-101", "P-102", "P-103"])
    _, data = await check(client, research, {"purpose": "commercial-partner", "participants": asked})
    assert data["permitted"] == ["P-101"]

    # A withdrawal counts from the next check on.
    await confirmed.send("WITHDRAW")
    _, data = await check(client, research, {"purpose": "records-research", "participants": asked})
    assert (data["permitted"], data["not_permitted"]) == ([], ["P-101", "P-102", "P-103"])


async def test_erased_people_are_not_permitted_and_other_studies_are_unknown(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    active = {"records-research": ConsentStatus.ACTIVE}
    await seed_participant(client.app, STUDY, "P-1", active, at=START)
    await seed_participant(
        client.app, STUDY, "P-2", {"records-research": ConsentStatus.WITHDRAWN}, at=START, erased=True
    )
    await seed_participant(client.app, "other-study", "P-3", active, at=START)
    status, data = await check(
        client, research, {"purpose": "records-research", "participants": ["P-1", "P-2", "P-3"]}
    )
    assert status == 200
    assert (data["permitted"], data["not_permitted"], data["unknown"]) == (["P-1"], ["P-2"], ["P-3"])


async def test_references_no_participant_could_have_are_unknown(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    await seed_participant(client.app, STUDY, "P-1", {"updates": ConsentStatus.ACTIVE}, at=START)
    odd = ["P-1\x00", "\ud800", "", " P-1", "P" * 101]
    status, data = await check(client, research, {"purpose": "updates", "participants": ["P-1", *odd]})
    assert status == 200
    assert (data["permitted"], data["not_permitted"], data["unknown"]) == (["P-1"], [], odd)


async def test_an_empty_list_gets_empty_lists(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    status, data = await check(client, research, {"purpose": "updates", "participants": []})
    assert status == 200
    assert (data["permitted"], data["not_permitted"], data["unknown"]) == ([], [], [])


async def test_a_hundred_thousand_references_in_one_call(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    await seed_participant(client.app, STUDY, "R-000007", {"updates": ConsentStatus.ACTIVE}, at=START)
    await seed_participant(client.app, STUDY, "R-099999", {"updates": ConsentStatus.PENDING}, at=START)
    asked = [f"R-{n:06d}" for n in range(100_000)]
    status, data = await check(client, research, {"purpose": "updates", "participants": asked})
    assert status == 200
    assert data["permitted"] == ["R-000007"]
    assert data["not_permitted"] == ["R-099999"]
    assert len(data["unknown"]) == 99_998
    assert data["unknown"][:2] == ["R-000000", "R-000001"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"purpose": "marketing", "participants": []}, "purpose", "purpose: 'marketing' is not a purpose of this study (it has records-research, "),
        ({"participants": []}, "purpose", "purpose: is required"),
        ({"purpose": "updates"}, "participants", "participants: is required and must be a list"),
        ({"purpose": "updates", "participants": "P-1"}, "participants", "participants: is required and must be a list"),
        ({"purpose": "updates", "participants": ["P-1", 2]}, "participants", "participants: item 1 is not a string"),
        ({"purpose": "updates", "participants": [], "as_of": "now"}, "as_of", "as_of: is not a known field"),
        ({"purpose": "updates", "participants": ["P"] * 100_001}, "participants", "participants: at most 100,000 in one check, not 100,001"),
        (["updates"], None, "the body must be a JSON object"),
    ],
)
async def test_a_bad_body_is_422(client: AppClient, body: Any, field: str | None, message: str) -> None:
    research = await ResearchSystem.register(client)
    status, data = await check(client, research, body)
    assert status == 422
    assert data["error"].startswith(message)
    assert data.get("field") == field


async def test_invalid_json_and_huge_bodies(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    headers = research.headers | {"Content-Type": "application/json"}
    response = await client.post(URL, data=b"{nope", headers=headers)
    assert response.status == 422
    assert (await response.json())["error"] == "the body is not valid JSON"
    response = await client.post(URL, data=io.BytesIO(b" " * (16 * 1024 * 1024 + 1)), headers=headers)
    assert response.status == 413
    assert "at most 100,000 participants" in (await response.json())["error"]


async def test_needs_this_study_s_token(client: AppClient) -> None:
    response = await client.post(URL, json={"purpose": "updates", "participants": []})
    assert response.status == 401
    research = await ResearchSystem.register(client)
    response = await client.post(
        "/api/v1/studies/other-study/consent-check",
        json={"purpose": "updates", "participants": []},
        headers=research.headers,
    )
    assert response.status == 403


POOL = {
    f"S-{status.value}-{n}": status for status in ConsentStatus for n in range(2)
}
"""Participants of the study, two per status of ``records-research``."""
OTHER_STUDY = ["O-1", "S-active-0-elsewhere"]
ANY_REFERENCE = st.one_of(
    st.sampled_from(sorted(POOL)),
    st.sampled_from(OTHER_STUDY),
    st.text(min_size=0, max_size=12),
)


@pytest.fixture
async def pool(client: AppClient) -> ResearchSystem:
    for reference, status in POOL.items():
        await seed_participant(client.app, STUDY, reference, {"records-research": status}, at=START)
    for reference in OTHER_STUDY:
        await seed_participant(
            client.app, "other-study", reference, {"records-research": ConsentStatus.ACTIVE}, at=START
        )
    return await ResearchSystem.register(client)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(asked=st.lists(ANY_REFERENCE, max_size=30))
async def test_each_reference_lands_in_exactly_one_list_the_right_one(
    client: AppClient, pool: ResearchSystem, asked: list[str]
) -> None:
    status, data = await check(client, pool, {"purpose": "records-research", "participants": asked})
    assert status == 200
    answered = data["permitted"] + data["not_permitted"] + data["unknown"]
    assert sorted(answered) == sorted(set(asked))
    for reference in data["permitted"]:
        assert POOL[reference] is ConsentStatus.ACTIVE
    for reference in data["not_permitted"]:
        assert POOL[reference] is not ConsentStatus.ACTIVE
    for reference in data["unknown"]:
        assert reference not in POOL
    # Each list keeps the order in which its references were first asked about.
    first_asked = list(dict.fromkeys(asked))
    for name in ("permitted", "not_permitted", "unknown"):
        assert data[name] == [r for r in first_asked if r in set(data[name])]
