"""The research-system API: its contract and its errors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from consentbot import keys
from consentbot.store.tables import Participant
from tests.conftest import AppClient
from tests.support.journey import PURPOSES, STUDY, ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

BASE = f"/api/v1/studies/{STUDY}"


async def post(client: AppClient, body: Any, token: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(f"{BASE}/invitations", json=body, headers=headers)
    return response.status, await response.json()


async def test_requires_a_valid_bearer_token(client: AppClient) -> None:
    response = await client.get(f"{BASE}/participants/P-1/consent")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await response.json()) == {"error": "a bearer token is required"}
    response = await client.get(f"{BASE}/participants/P-1/consent", headers={"Authorization": "Bearer cbt_nope"})
    assert response.status == 401


async def test_token_of_another_study_is_forbidden(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    response = await client.get("/api/v1/studies/other-study/participants/P-1/consent", headers=research.headers)
    assert response.status == 403
    assert (await response.json())["error"] == "this token is for another study"


async def test_unknown_participant_is_404(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    for what in ("consent", "history"):
        response = await client.get(f"{BASE}/participants/P-404/{what}", headers=research.headers)
        assert response.status == 404
        assert "P-404" in (await response.json())["error"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"reference": "P-1"}, "phone", "phone: is required and must be a non-empty string"),
        ({"phone": "+447400900001"}, "reference", "reference: is required"),
        ({"phone": "not a phone", "reference": "P-1"}, "phone", "phone: is not a phone number"),
        ({"phone": "+4412", "reference": "P-1"}, "phone", "phone: is not a possible phone number"),
        ({"phone": "+447400900001", "reference": "P-1", "language": "fr"}, "language", "'fr' is not offered by this study (it offers en, cy, pl, ur)"),
        ({"phone": "+447400900001", "reference": "P-1", "lang": "pl"}, "lang", "lang: is not a known field"),
        (["phone"], None, "the body must be a JSON object"),
    ],
)
async def test_malformed_invitation_is_422_and_changes_nothing(
    client: AppClient, body: Any, field: str | None, message: str
) -> None:
    research = await ResearchSystem.register(client)
    status, data = await post(client, body, research.headers["Authorization"].split()[1])
    assert status == 422
    assert message in data["error"]
    assert data.get("field") == field
    response = await client.get(f"{BASE}/participants/P-1/consent", headers=research.headers)
    assert response.status == 404


async def test_invalid_json_is_422(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    response = await client.post(
        f"{BASE}/invitations", data=b"{not json", headers=research.headers | {"Content-Type": "application/json"}
    )
    assert response.status == 422
    assert (await response.json())["error"] == "the body is not valid JSON"


async def test_invitation_is_idempotent_and_conflicts_are_409(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    token = research.headers["Authorization"].split()[1]
    body = {"phone": "07400 900001", "reference": "P-1", "language": "pl"}
    assert (await post(client, body, token))[0] == 201
    status, data = await post(client, body | {"phone": "+447400900001"}, token)
    assert status == 200
    assert data["created"] is False
    assert data["language"] == "pl"
    status, data = await post(client, body | {"phone": "+447400900002"}, token)
    assert status == 409
    assert data["field"] == "reference"
    status, data = await post(client, body | {"reference": "P-2"}, token)
    assert status == 409
    assert data["field"] == "phone"


async def test_consent_shape(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    await research.invite("+447400900003", "P-3")
    response = await client.get(f"{BASE}/participants/P-3/consent", headers=research.headers)
    data = await response.json()
    assert data == {
        "study": STUDY,
        "participant": "P-3",
        "purposes": {
            p: {
                "status": "none",
                "permitted": False,
                "meaning": "The person has not answered this question.",
                "since": None,
                "content_version": None,
                "withdrawal_level": None,
            }
            for p in PURPOSES
        },
    }


async def test_consent_says_how_far_a_withdrawal_goes(client: AppClient, fake_twilio: FakeTwilio) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400123401")
    await research.invite(phone.number, "P-11")
    for answer in ["YES", "YES", "NO", "NO", "NO", "YES"]:
        await phone.send(answer)
    await phone.send("WITHDRAW")
    response = await client.get(f"{BASE}/participants/P-11/consent", headers=research.headers)
    purposes = (await response.json())["purposes"]
    levels = {p: (item["status"], item["withdrawal_level"]) for p, item in purposes.items()}
    assert levels == {
        "records-research": ("withdrawn", "no-further-use"),
        "social-care-linkage": ("declined", None),
        "commercial-partner": ("declined", None),
        "recontact": ("declined", None),
        "updates": ("withdrawn", "no-further-use"),
    }


async def test_keyword_joiners_get_a_generated_reference(client: AppClient, fake_twilio: FakeTwilio) -> None:
    phone = TwilioPhone(client, fake_twilio, "+447400900009")
    await phone.send("joints")
    await phone.send("YES")
    await phone.send("YES")
    async with client.app[keys.DATABASE].transaction() as session:
        (participant,) = (await session.exec(select(Participant))).all()
    assert participant.reference.startswith("K-")
    assert len(participant.reference) == 10
    research = await ResearchSystem.register(client)
    assert (await research.consent(participant.reference))["records-research"] == "pending"
    await research.invite("+447400900010", "P-10")
    response = await client.get(f"{BASE}/participants", headers=research.headers)
    listed = (await response.json())["participants"]
    assert [(p["participant"], p["joined"]) for p in listed] == [
        (participant.reference, "keyword"), ("P-10", "invitation")
    ]
    assert all(p["created"].endswith("Z") for p in listed)
    assert "7400" not in await response.text()
