"""The receipt document: its sections, its signature, and the turns that earn one."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consentbot.domain.checkpoint import canonical_json
from consentbot.domain.receipt import (
    KANTARA_VERSION,
    SCHEMA,
    ReceiptError,
    ReceiptEvent,
    ReceiptFacts,
    ReceiptPurpose,
    key_id,
    receipt_document,
    sign_receipt,
    verify_receipt,
)
from consentbot.domain.receipt_due import receipt_due
from consentbot.domain.status import ConsentStatus as S
from consentbot.domain.transitions import ConsentAction as A

AT = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def facts() -> ReceiptFacts:
    return ReceiptFacts(
        reference="R-7QF3-M2XA",
        issued_at=AT,
        study_id="joint-health-records",
        study_title="Joint health records study",
        content_version=2,
        content_digest="ab" * 32,
        language="pl",
        participant="P-0001",
        contact_email="study@example.org",
        contact_phone="+44 800 000 0000",
        policy_url="https://consent.example.org/api/v1/studies/joint-health-records/versions/2",
        purposes=[
            ReceiptPurpose("records-research", "Records", True, "active", True),
            ReceiptPurpose("commercial-partner", "Company", False, "declined", False),
        ],
        events=[
            ReceiptEvent(
                seq=7, purpose="records-research", action="confirm", from_status="pending",
                to_status="active", withdrawal_level=None, occurred_at=AT, hash="c" * 64,
                prev_hash="b" * 64, channel="sms:twilio", auth="sms", assisted_by=None,
                confirmed_via=None,
            )
        ],
    )  # fmt: skip


def signed() -> dict[str, Any]:
    return sign_receipt(receipt_document(facts()), KEY)


def test_the_document_has_the_27560_sections_with_kantara_names() -> None:
    document = signed()
    assert set(document) == {"header", "processing", "parties", "events", "signature"}
    header = document["header"]
    assert header["schemaVersion"] == SCHEMA
    assert header["version"] == KANTARA_VERSION
    assert header["consentReceiptID"] == header["recordId"] == "R-7QF3-M2XA"
    assert header["consentTimestamp"] == int(AT.timestamp())
    assert header["jurisdiction"] == "GB"
    processing = document["processing"]
    assert processing["legalBasis"] == "consent"
    assert processing["policyUrl"].endswith("/versions/2")
    assert processing["contentVersion"] == 2
    assert processing["contentDigest"] == "ab" * 32
    [service] = processing["services"]
    assert [(p["purpose"], p["status"], p["changed"]) for p in service["purposes"]] == [
        ("records-research", "active", True),
        ("commercial-partner", "declined", False),
    ]
    assert document["parties"]["piiPrincipalId"] == "P-0001"
    assert document["parties"]["piiControllers"][0]["email"] == "study@example.org"
    [event] = document["events"]
    assert event == {
        "seq": 7, "purpose": "records-research", "action": "confirm", "from": "pending",
        "to": "active", "withdrawalLevel": None, "time": "2026-12-02T10:30:00Z",
        "hash": "c" * 64, "prevHash": "b" * 64, "collectionMethod": "sms:twilio", "auth": "sms",
        "assistedBy": None, "confirmedVia": None,
    }  # fmt: skip
    assert document["signature"]["alg"] == "Ed25519"
    assert document["signature"]["keyId"] == key_id(KEY.public_key())


def test_a_signed_receipt_verifies_with_the_public_key_alone() -> None:
    document = signed()
    assert verify_receipt(document, KEY.public_key()) == document
    # Canonical JSON is what is signed: key order and spacing of the file do not matter.
    reordered = dict(reversed(list(document.items())))
    assert verify_receipt(reordered, KEY.public_key()) == reordered
    assert canonical_json(reordered) == canonical_json(document)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("processing", "services", 0, "purposes", 1, "status"), "active"),
        (("parties", "piiPrincipalId"), "P-0002"),
        (("events", 0, "hash"), "d" * 64),
        (("header", "consentTimestamp"), 0),
    ],
)
def test_any_change_after_signing_is_found(path: tuple[str | int, ...], value: object) -> None:
    document = copy.deepcopy(signed())
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(ReceiptError, match="does not verify"):
        verify_receipt(document, KEY.public_key())


def test_another_key_or_a_missing_signature_is_refused() -> None:
    other = Ed25519PrivateKey.from_private_bytes(bytes(32))
    with pytest.raises(ReceiptError, match="keyId"):
        verify_receipt(signed(), other.public_key())
    forged = sign_receipt(receipt_document(facts()), other)
    forged["signature"]["keyId"] = key_id(KEY.public_key())
    with pytest.raises(ReceiptError, match="does not verify"):
        verify_receipt(forged, KEY.public_key())
    unsigned = receipt_document(facts())
    with pytest.raises(ReceiptError, match="signature: missing"):
        verify_receipt(unsigned, KEY.public_key())
    with pytest.raises(ReceiptError, match="JSON object"):
        verify_receipt([1, 2], KEY.public_key())


def test_a_well_signed_document_of_the_wrong_shape_is_refused() -> None:
    broken = receipt_document(facts())
    del broken["events"]
    with pytest.raises(ReceiptError, match="events: missing"):
        verify_receipt(sign_receipt(broken, KEY), KEY.public_key())
    wrong = receipt_document(facts())
    wrong["header"]["consentReceiptID"] = "R-7QF3-M2XU"
    with pytest.raises(ReceiptError, match="consentReceiptID"):
        verify_receipt(sign_receipt(wrong, KEY), KEY.public_key())


@pytest.mark.parametrize(
    ("changes", "changing", "due"),
    [
        ([(A.CONFIRM, S.PENDING)], False, True),
        ([(A.WITHDRAW, S.ACTIVE)], False, True),
        ([(A.REQUIRE_RECONSENT, S.ACTIVE)], False, True),
        ([(A.ANSWER_NO, S.ACTIVE)], False, True),  # a no to a yes is a withdrawal
        ([(A.ANSWER_NO, S.RECONSENT_REQUIRED)], False, True),
        ([(A.ANSWER_YES, S.WITHDRAWN)], True, True),  # CHANGE: widening, cooling off again
        ([(A.ANSWER_YES, S.NONE)], False, False),
        ([(A.ANSWER_YES, S.RECONSENT_REQUIRED)], True, False),  # asked again: at CONFIRM  # a first yes: the receipt comes at CONFIRM
        ([(A.ANSWER_NO, S.NONE)], False, False),
        ([(A.EXPIRE, S.PENDING)], False, False),
        ([(A.ERASE, S.ACTIVE)], False, False),
        ([], True, False),
    ],
)
def test_which_turns_earn_a_receipt(
    changes: list[tuple[A, S]], changing: bool, due: bool
) -> None:
    assert receipt_due(changes, changing=changing) is due
