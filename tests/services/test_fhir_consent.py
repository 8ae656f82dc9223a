"""The FHIR Consent builder and its status mapping: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B.consent import Consent
from hypothesis import given
from hypothesis import strategies as st

from consentbot.api.negotiation import wants_fhir
from consentbot.domain.status import ConsentStatus
from consentbot.services.fhir_consent import FhirConsentState, FhirStudy, fhir_consent, fhir_status
from consentbot.services.queries import ConsentView, PurposeView
from tests.support.fhir_codes import assert_codes_are_r4

S = ConsentStatus
F = FhirConsentState
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
BASE = "https://consent.example.org"
STUDY = FhirStudy("Northern Pennines Joint Health Records", 2)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([S.ACTIVE, S.DECLINED, S.WITHDRAWN], F.ACTIVE),
        ([S.ACTIVE, S.NONE], F.ACTIVE),
        ([S.PENDING, S.DECLINED], F.PROPOSED),
        ([S.RECONSENT_REQUIRED, S.WITHDRAWN], F.PROPOSED),
        ([S.WITHDRAWN, S.DECLINED], F.INACTIVE),
        ([S.EXPIRED, S.NONE], F.INACTIVE),
        ([S.WITHDRAWN] * 5, F.INACTIVE),  # an erased participant
        ([S.DECLINED, S.NONE], F.REJECTED),
        ([S.DECLINED], F.REJECTED),
        ([S.NONE, S.NONE], F.PROPOSED),
        ([], F.PROPOSED),
    ],
)
def test_status_mapping(statuses: list[ConsentStatus], expected: FhirConsentState) -> None:
    assert fhir_status(statuses) is expected


@given(st.lists(st.sampled_from(ConsentStatus), max_size=8))
def test_active_exactly_when_some_purpose_is_permission(statuses: list[ConsentStatus]) -> None:
    assert (fhir_status(statuses) is F.ACTIVE) == (S.ACTIVE in statuses)


def view(**purposes: tuple[ConsentStatus, int | None, timedelta | None]) -> ConsentView:
    return ConsentView(
        "joint-health-records",
        "P-0001",
        {
            name.replace("_", "-"): PurposeView(status.value, AT + since if since is not None else None, version)
            for name, (status, version, since) in purposes.items()
        },
    )


def test_one_nested_provision_per_purpose_permit_only_while_active() -> None:
    resource = fhir_consent(
        view(
            records_research=(S.ACTIVE, 1, timedelta(days=1)),
            commercial_partner=(S.DECLINED, 1, timedelta(hours=1)),
            updates=(S.RECONSENT_REQUIRED, 2, timedelta(days=90)),
            recontact=(S.NONE, None, None),
        ),
        STUDY,
        BASE + "/",
        as_of=AT + timedelta(days=100),
    )
    Consent.model_validate(resource)
    assert_codes_are_r4(resource)
    assert resource["status"] == "active"
    assert resource["patient"] == {
        "identifier": {"system": f"{BASE}/studies/joint-health-records/participants", "value": "P-0001"}
    }
    assert resource["dateTime"] == "2027-03-01T10:00:00Z"  # the last change
    assert resource["organization"] == [
        {"identifier": {"system": f"{BASE}/studies", "value": "joint-health-records"},
         "display": "Northern Pennines Joint Health Records"}
    ]
    assert resource["policy"] == [
        {"uri": f"{BASE}/api/v1/studies/joint-health-records/versions/2"},
        {"uri": f"{BASE}/api/v1/studies/joint-health-records/versions/1"},
    ]
    root: dict[str, Any] = resource["provision"]
    assert root["type"] == "deny"
    nested = {p["code"][0]["coding"][0]["code"]: p for p in root["provision"]}
    assert {code: p["type"] for code, p in nested.items()} == {
        "records-research": "permit",
        "commercial-partner": "deny",
        "updates": "deny",
        "recontact": "deny",
    }
    assert nested["records-research"]["period"] == {"start": "2026-12-02T10:00:00Z"}
    assert "period" not in nested["updates"]
    for provision in root["provision"]:
        assert provision["code"][0]["coding"][0]["system"] == f"{BASE}/studies/joint-health-records/purposes"


def test_nothing_answered_yet_points_at_the_served_version() -> None:
    resource = fhir_consent(
        view(records_research=(S.NONE, None, None), updates=(S.NONE, None, None)), STUDY, BASE, as_of=AT
    )
    Consent.model_validate(resource)
    assert_codes_are_r4(resource)
    assert (resource["status"], resource["dateTime"]) == ("proposed", "2026-12-01T10:00:00Z")
    assert resource["policy"] == [{"uri": f"{BASE}/api/v1/studies/joint-health-records/versions/2"}]
    assert {p["type"] for p in resource["provision"]["provision"]} == {"deny"}


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(ConsentStatus), min_size=1))
def test_every_mix_of_statuses_is_valid_r4(statuses: dict[str, ConsentStatus]) -> None:
    purposes = {
        name: (status, None if status is S.NONE else 1, None if status is S.NONE else timedelta(0))
        for name, status in statuses.items()
    }
    resource = fhir_consent(view(**purposes), STUDY, BASE, as_of=AT)
    Consent.model_validate(resource)
    assert_codes_are_r4(resource)
    permits = [p for p in resource["provision"]["provision"] if p["type"] == "permit"]
    assert len(permits) == sum(1 for s in statuses.values() if s is S.ACTIVE)


@pytest.mark.parametrize(
    ("accept", "fhir"),
    [
        ("application/fhir+json", True),
        ("application/fhir+json; fhirVersion=4.0", True),
        ("application/json, application/fhir+json;q=0.5", True),
        ("application/json+fhir", True),
        ("APPLICATION/FHIR+JSON", True),
        ("application/fhir+json;q=0", False),
        ("application/fhir+json;q=nope", False),
        ("application/json", False),
        ("*/*", False),
        ("", False),
    ],
)
def test_fhir_only_when_asked_for_by_name(accept: str, fhir: bool) -> None:
    assert wants_fhir(accept) is fhir
