"""A participant's consent as an HL7 FHIR R4 ``Consent`` resource: a pure function.

Documented in docs/research-api.md (FHIR export). The mapping from consentbot's statuses to
FHIR's is :func:`fhir_status`; each purpose becomes a nested provision that permits only
while the purpose is ``active`` (the only status that is permission).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from consentbot.domain.status import ConsentStatus, counts_as_permission
from consentbot.services.queries import ConsentView

SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentcategorycodes"


class FhirConsentState(StrEnum):
    """FHIR R4 consent-state-codes that consentbot uses (not draft nor entered-in-error)."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    REJECTED = "rejected"
    INACTIVE = "inactive"


def fhir_status(statuses: Iterable[ConsentStatus]) -> FhirConsentState:
    """The whole record's FHIR status from its purposes' statuses, first rule that applies:

    1. ``active`` if any purpose is active: the record permits some use now;
    2. ``proposed`` if any purpose is pending or reconsent_required: an answer that would
       count is still to come;
    3. ``inactive`` if any purpose was withdrawn or expired: a yes existed and no longer
       holds (an erased participant is here: every purpose withdrawn);
    4. ``rejected`` if any purpose was declined: the person said no to all they answered;
    5. ``proposed`` otherwise: asked (invited), nothing answered yet.

    ``draft`` is never used: consentbot holds no consent before the person is asked.
    """
    found = set(statuses)
    if any(counts_as_permission(status) for status in found):
        return FhirConsentState.ACTIVE
    if found & {ConsentStatus.PENDING, ConsentStatus.RECONSENT_REQUIRED}:
        return FhirConsentState.PROPOSED
    if found & {ConsentStatus.WITHDRAWN, ConsentStatus.EXPIRED}:
        return FhirConsentState.INACTIVE
    if ConsentStatus.DECLINED in found:
        return FhirConsentState.REJECTED
    return FhirConsentState.PROPOSED


@dataclass(frozen=True, slots=True)
class FhirStudy:
    """What the resource says about the study, besides the participant's consent."""

    title: str
    """The study's title in its default language: the organisation's display."""
    version: int
    """The version served now: the policy when no purpose was answered yet."""


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def fhir_consent(
    view: ConsentView, study: FhirStudy, base_url: str, as_of: datetime
) -> dict[str, Any]:
    """The FHIR R4 Consent of ``view``; URLs are built on ``base_url`` (the public URL).

    - ``patient`` is an identifier: the study's reference, never a phone number;
    - ``dateTime`` is the last change of any purpose (``as_of`` if none was answered);
    - ``policy`` points at every published version under which a current status was set,
      newest first (the served version if none was answered);
    - the root provision denies; one nested provision per purpose permits while it is
      ``active`` and denies otherwise, coded in the study's own purpose system.
    """
    base = base_url.rstrip("/")
    namespace = f"{base}/studies/{view.study}"
    items = list(view.purposes.items())
    statuses = [ConsentStatus(item.status) for _, item in items]
    changes = [item.since for _, item in items if item.since is not None]
    versions = sorted(
        {item.content_version for _, item in items if item.content_version is not None},
        reverse=True,
    ) or [study.version]
    provisions: list[dict[str, object]] = []
    for purpose, item in items:
        permitted = counts_as_permission(ConsentStatus(item.status))
        provision: dict[str, object] = {
            "type": "permit" if permitted else "deny",
            "code": [{"coding": [{"system": f"{namespace}/purposes", "code": purpose}]}],
        }
        if permitted and item.since is not None:
            provision["period"] = {"start": _iso(item.since)}
        provisions.append(provision)
    return {
        "resourceType": "Consent",
        "status": fhir_status(statuses).value,
        "scope": {"coding": [{"system": SCOPE_SYSTEM, "code": "research", "display": "Research"}]},
        "category": [
            {
                "coding": [
                    {
                        "system": CATEGORY_SYSTEM,
                        "code": "research",
                        "display": "Research Information Access",
                    }
                ]
            }
        ],
        "patient": {
            "identifier": {"system": f"{namespace}/participants", "value": view.participant}
        },
        "dateTime": _iso(max(changes) if changes else as_of),
        "organization": [
            {
                "identifier": {"system": f"{base}/studies", "value": view.study},
                "display": study.title,
            }
        ],
        "policy": [
            {"uri": f"{base}/api/v1/studies/{view.study}/versions/{version}"}
            for version in versions
        ],
        "provision": {"type": "deny", "provision": provisions},
    }
