"""The FHIR R4 (4.0.1) code systems a Consent uses, written out from the specification.

fhir.resources checks a resource's structure, not its codes: these constants are what a
code must be one of. Sources: hl7.org/fhir/R4/codesystem-consent-state-codes.html,
codesystem-consent-provision-type.html, codesystem-consent-scope.html and
codesystem-consent-category.html.
"""

from __future__ import annotations

from typing import Any

CONSENT_STATE_CODES = frozenset({"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"})
"""http://hl7.org/fhir/consent-state-codes (Consent.status, required binding)."""
CONSENT_PROVISION_TYPE = frozenset({"deny", "permit"})
"""http://hl7.org/fhir/consent-provision-type (Consent.provision.type, required binding)."""
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_SCOPE = {
    "adr": "Advanced Care Directive",
    "research": "Research",
    "patient-privacy": "Privacy Consent",
    "treatment": "Treatment",
}
CONSENT_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentcategorycodes"
CONSENT_CATEGORY = {
    "acd": "Advance Directive",
    "dnr": "Do Not Resuscitate",
    "emrgonly": "Emergency Only",
    "hcd": "Health Care Directive",
    "npp": "Notice of Privacy Practices",
    "polst": "POLST",
    "research": "Research Information Access",
    "rsdid": "De-identified Information Access",
    "rsreid": "Re-identifiable Information Access",
}


def _provisions(provision: dict[str, Any]) -> list[dict[str, Any]]:
    nested: list[dict[str, Any]] = provision.get("provision", [])
    return [provision, *(p for child in nested for p in _provisions(child))]


def assert_codes_are_r4(resource: dict[str, Any]) -> None:
    """Every code of ``resource`` that R4 binds is one of its code system's codes."""
    assert resource["status"] in CONSENT_STATE_CODES
    for coding in resource["scope"]["coding"]:
        assert coding["system"] == CONSENT_SCOPE_SYSTEM
        assert coding["code"] in CONSENT_SCOPE
        assert coding.get("display", CONSENT_SCOPE[coding["code"]]) == CONSENT_SCOPE[coding["code"]]
    for category in resource["category"]:
        for coding in category["coding"]:
            assert coding["system"] == CONSENT_CATEGORY_SYSTEM
            assert coding["code"] in CONSENT_CATEGORY
            assert coding.get("display", CONSENT_CATEGORY[coding["code"]]) == CONSENT_CATEGORY[coding["code"]]
    for provision in _provisions(resource["provision"]):
        assert provision["type"] in CONSENT_PROVISION_TYPE
