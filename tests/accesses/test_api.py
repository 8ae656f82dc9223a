"""``POST .../accesses``: its answer, refusals, idempotency, authorisation and validation."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import func, select

from consentbot import keys
from consentbot.services.clock import ManualClock
from consentbot.store.tables import DataAccess, DataAccessParticipant
from tests.accesses.support import ACCESSES, active_people, body, joined, record
from tests.conftest import AppClient
from tests.support.journey import ResearchSystem
from tests.support.twilio_fake import FakeTwilio


async def count(client: AppClient, table: type[DataAccess] | type[DataAccessParticipant]) -> int:
    async with client.app[keys.DATABASE].read() as session:
        return (await session.exec(select(func.count()).select_from(table))).one()


async def test_records_only_active_consent_and_names_every_refusal(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    await active_people(client, fake_twilio, clock, research, 2)
    await joined(client, fake_twilio, research, "+447400900003", "P-3")  # pending: not confirmed
    await research.invite("+447400900004", "P-4")  # never answered
    status, data = await record(client, research, body(["P-1", "P-2", "P-3", "P-4", "P-404"]))
    assert status == 201
    assert isinstance(data["access"], int)
    assert data["recorded"] == ["P-1", "P-2"]
    assert data["refused"] == [
        {"participant": "P-3", "status": "pending"},
        {"participant": "P-4", "status": "none"},
        {"participant": "P-404", "status": "unknown"},
    ]
    status, data = await record(client, research, body(["P-1", "P-2"], purpose="recontact"))
    assert status == 201
    assert data == {
        "access": None,
        "recorded": [],
        "refused": [{"participant": "P-1", "status": "declined"}, {"participant": "P-2", "status": "declined"}],
    }
    assert await count(client, DataAccess) == 1
    assert await count(client, DataAccessParticipant) == 2


async def test_a_withdrawn_participant_is_refused(client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock) -> None:
    research = await ResearchSystem.register(client)
    phones = await active_people(client, fake_twilio, clock, research, 1)
    await phones[0].send("WITHDRAW")
    status, data = await record(client, research, body(["P-1"]))
    assert status == 201
    assert data["refused"] == [{"participant": "P-1", "status": "withdrawn"}]


async def test_a_retry_with_the_same_key_records_nothing_new(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    await active_people(client, fake_twilio, clock, research, 1)
    first = await record(client, research, body(["P-1", "P-9"]), key="extract-2026-12-02")
    again = await record(client, research, body(["P-1", "P-9"]), key="extract-2026-12-02")
    assert first[0] == again[0] == 201
    assert first[1] == again[1]
    assert await count(client, DataAccess) == 1
    other = await record(client, research, body(["P-1"]), key="extract-2026-12-03")
    assert other[1]["access"] != first[1]["access"]
    assert await count(client, DataAccess) == 2


async def test_the_same_key_with_another_body_is_409(client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock) -> None:
    research = await ResearchSystem.register(client)
    await active_people(client, fake_twilio, clock, research, 1)
    assert (await record(client, research, body(["P-1"]), key="k-1"))[0] == 201
    status, data = await record(client, research, body(["P-1"], dataset="Hospital episodes"), key="k-1")
    assert status == 409
    assert data["field"] == "Idempotency-Key"
    assert "already used for a different request" in data["error"]
    assert await count(client, DataAccess) == 1


async def test_requires_the_study_s_token(client: AppClient) -> None:
    response = await client.post(ACCESSES, json=body(["P-1"]))
    assert response.status == 401
    assert (await response.json()) == {"error": "a bearer token is required"}
    research = await ResearchSystem.register(client)
    response = await client.post("/api/v1/studies/other-study/accesses", json=body(["P-1"]), headers=research.headers)
    assert response.status == 403
    assert (await response.json())["error"] == "this token is for another study"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"purpose": "selling"}, "purpose", "'selling' is not a purpose of this study"),
        ({"purpose": ""}, "purpose", "purpose: is required and must be a non-empty string"),
        ({"accessor": "Acme"}, "accessor", "accessor: is required: an object"),
        ({"accessor": {"name": "A", "organisation": "B", "kind": "charity"}}, "accessor.kind",
         "accessor.kind: must be one of university, nhs, company, other"),
        ({"accessor": {"name": "A", "kind": "nhs"}}, "accessor.organisation", "accessor.organisation: is required"),
        ({"accessor": {"name": "A", "organisation": "B", "kind": "nhs", "email": "x"}}, "accessor.email",
         "accessor.email: is not a known field"),
        ({"dataset": 5}, "dataset", "dataset: is required and must be a non-empty string"),
        ({"reason": "x" * 1001}, "reason", "reason: must be at most 1000 characters"),
        ({"participants": []}, "participants", "participants: must be a list of 1 to 100,000"),
        ({"participants": ["P-1", 7]}, "participants[1]", "participants[1]: must be a non-empty string"),
        ({"participants": ["P-1", "P-1"]}, "participants[1]", "'P-1' is listed twice"),
        ({"participants": [f"P-{n}" for n in range(100_001)]}, "participants", "at most 100,000 in one call"),
        ({"when": "now"}, "when", "when: is not a known field"),
    ],
)
async def test_invalid_requests_are_422_and_name_the_field(
    client: AppClient, change: dict[str, Any], field: str, message: str
) -> None:
    research = await ResearchSystem.register(client)
    status, data = await record(client, research, body(["P-1"]) | change)
    assert status == 422
    assert data["field"] == field
    assert message in data["error"]
    assert await count(client, DataAccess) == 0


async def test_a_body_that_is_not_json_is_422(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    response = await client.post(
        ACCESSES, data=b"{nope", headers=research.headers | {"Content-Type": "application/json"}
    )
    assert response.status == 422
    assert (await response.json()) == {"error": "the body is not valid JSON"}
