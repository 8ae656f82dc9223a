"""``GET .../participants/{reference}/consent`` as a FHIR R4 Consent, by content negotiation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fhir.resources.R4B.consent import Consent

from consentbot.domain.status import ConsentStatus
from consentbot.services.clock import ManualClock
from tests.conftest import START, AppClient, settle
from tests.support.consent_seed import seed_participant
from tests.support.fhir_codes import assert_codes_are_r4
from tests.support.journey import PURPOSES, STUDY, ResearchSystem
from tests.support.twilio_fake import PUBLIC_URL, FakeTwilio, TwilioPhone

FHIR = {"Accept": "application/fhir+json"}


async def fhir_consent(client: AppClient, research: ResearchSystem, reference: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/studies/{STUDY}/participants/{reference}/consent", headers=research.headers | FHIR
    )
    assert response.status == 200, await response.text()
    assert response.content_type == "application/fhir+json"
    assert response.headers["Vary"] == "Accept"
    resource: dict[str, Any] = await response.json(content_type="application/fhir+json")
    Consent.model_validate(resource)
    assert_codes_are_r4(resource)
    return resource


async def test_a_confirmed_participant_exports_as_an_active_consent(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900201")
    await research.invite(phone.number, "P-201")
    assert (await fhir_consent(client, research, "P-201"))["status"] == "proposed"
    for answer in ["YES", "YES", "NO", "YES", "NO", "NO"]:
        await phone.send(answer)
    assert (await fhir_consent(client, research, "P-201"))["status"] == "proposed"
    clock.advance(timedelta(days=1, minutes=1))
    await settle(client.app)
    await phone.send("CONFIRM")

    resource = await fhir_consent(client, research, "P-201")
    assert resource["status"] == "active"
    namespace = f"{PUBLIC_URL}/studies/{STUDY}"
    assert resource["patient"] == {"identifier": {"system": f"{namespace}/participants", "value": "P-201"}}
    assert resource["policy"] == [{"uri": f"{PUBLIC_URL}/api/v1/studies/{STUDY}/versions/1"}]
    assert resource["organization"][0]["display"] == "Northern Pennines Joint Health Records"
    assert resource["dateTime"] == (START + timedelta(days=1, minutes=1)).isoformat().replace("+00:00", "Z")
    nested = {p["code"][0]["coding"][0]["code"]: p["type"] for p in resource["provision"]["provision"]}
    assert nested == {
        "records-research": "permit",
        "social-care-linkage": "deny",
        "commercial-partner": "permit",
        "recontact": "deny",
        "updates": "deny",
    }
    assert resource["provision"]["type"] == "deny"
    assert "7400900201" not in str(resource)

    await phone.send("WITHDRAW")
    resource = await fhir_consent(client, research, "P-201")
    assert resource["status"] == "inactive"
    assert {p["type"] for p in resource["provision"]["provision"]} == {"deny"}


async def test_erased_and_declined_participants(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    await seed_participant(
        client.app, STUDY, "P-1", dict.fromkeys(PURPOSES, ConsentStatus.WITHDRAWN), at=START, erased=True
    )
    await seed_participant(client.app, STUDY, "P-2", {"records-research": ConsentStatus.DECLINED}, at=START)
    assert (await fhir_consent(client, research, "P-1"))["status"] == "inactive"
    assert (await fhir_consent(client, research, "P-2"))["status"] == "rejected"


async def test_other_accept_values_keep_the_plain_json(client: AppClient) -> None:
    research = await ResearchSystem.register(client)
    await research.invite("+447400900202", "P-202")
    url = f"/api/v1/studies/{STUDY}/participants/P-202/consent"
    for accept in (None, "application/json", "*/*", "application/fhir+json;q=0"):
        headers = research.headers | ({"Accept": accept} if accept else {})
        response = await client.get(url, headers=headers)
        assert response.status == 200
        assert response.content_type == "application/json"
        assert response.headers["Vary"] == "Accept"
        assert set((await response.json())["purposes"]) == set(PURPOSES)


async def test_errors_stay_json_and_the_token_is_still_needed(client: AppClient) -> None:
    url = f"/api/v1/studies/{STUDY}/participants/P-404/consent"
    response = await client.get(url, headers=FHIR)
    assert response.status == 401
    research = await ResearchSystem.register(client)
    response = await client.get(url, headers=research.headers | FHIR)
    assert response.status == 404
    assert "P-404" in (await response.json())["error"]
