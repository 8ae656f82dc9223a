"""Signed consent receipts: the document, its signature, and the check anyone can run.

The document follows the ISO/IEC TS 27560 consent record structure (``header``,
``processing``, ``parties``, ``events``) and uses Kantara Consent Receipt v1.1 field
names where they map (docs/receipts.md has the mapping). It holds the study's
reference for the person, never a phone number. The signature covers the canonical
JSON (keys sorted, no spaces, UTF-8) of the document without its ``signature`` block,
with the audit key (Ed25519) that signs ledger checkpoints. The format is stable:
people and other tools check these files offline.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from consentbot.domain.checkpoint import canonical_json
from consentbot.domain.receipt_reference import PATTERN

SCHEMA = "consentbot-receipt/1"
"""This format; raised (with a migration note) if a field changes meaning."""
KANTARA_VERSION = "KI-CR-v1.1.0"
ALGORITHM = "Ed25519"
SECTIONS = ("header", "processing", "parties", "events")
_TIME = "%Y-%m-%dT%H:%M:%SZ"


class ReceiptError(ValueError):
    """The receipt cannot be trusted: malformed, signed by another key, or altered."""


@dataclass(frozen=True, slots=True)
class ReceiptEvent:
    """One ledger event the receipt's turn wrote."""

    seq: int
    purpose: str
    action: str
    from_status: str
    to_status: str
    withdrawal_level: str | None
    occurred_at: datetime
    hash: str
    prev_hash: str
    channel: str
    auth: str | None
    assisted_by: str | None
    confirmed_via: str | None


@dataclass(frozen=True, slots=True)
class ReceiptPurpose:
    """A purpose of the study, and where it stands after the turn."""

    id: str
    title: str
    required: bool
    status: str
    changed: bool
    """Changed by this receipt's turn (the others are listed as they stood)."""


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """Everything a receipt says, gathered by the consent service."""

    reference: str
    issued_at: datetime
    study_id: str
    study_title: str
    content_version: int
    content_digest: str
    language: str
    participant: str
    """The study's reference for the person (their piiPrincipalId)."""
    contact_email: str
    contact_phone: str
    policy_url: str
    purposes: Sequence[ReceiptPurpose]
    events: Sequence[ReceiptEvent]
    jurisdiction: str = "GB"


def stamp(moment: datetime) -> str:
    """A UTC time as receipts write it, to the second."""
    return moment.astimezone(UTC).strftime(_TIME)


def key_id(key: Ed25519PublicKey) -> str:
    """A public key's id: ``sha256:`` and the first 16 hex characters of its raw bytes' hash."""
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:16]


def receipt_document(facts: ReceiptFacts) -> dict[str, Any]:
    """The unsigned receipt."""
    first = min((e.occurred_at for e in facts.events), default=facts.issued_at)
    return {
        "header": {
            "schemaVersion": SCHEMA,
            "version": KANTARA_VERSION,
            "recordId": facts.reference,
            "consentReceiptID": facts.reference,
            "consentTimestamp": int(first.timestamp()),
            "issued": stamp(facts.issued_at),
            "jurisdiction": facts.jurisdiction,
            "language": facts.language,
        },
        "processing": {
            "legalBasis": "consent",
            "policyUrl": facts.policy_url,
            "contentVersion": facts.content_version,
            "contentDigest": facts.content_digest,
            "services": [
                {
                    "service": facts.study_id,
                    "serviceTitle": facts.study_title,
                    "purposes": [
                        {
                            "purpose": p.id,
                            "purposeTitle": p.title,
                            "primaryPurpose": p.required,
                            "consentType": "EXPLICIT",
                            "status": p.status,
                            "changed": p.changed,
                        }
                        for p in facts.purposes
                    ],
                }
            ],
            "sensitive": True,
            "spiCat": ["health"],
        },
        "parties": {
            "piiPrincipalId": facts.participant,
            "piiControllers": [
                {
                    "piiController": facts.study_title,
                    "role": "data controller",
                    "email": facts.contact_email,
                    "phone": facts.contact_phone,
                }
            ],
        },
        "events": [_event(e) for e in facts.events],
    }


def _event(event: ReceiptEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "purpose": event.purpose,
        "action": event.action,
        "from": event.from_status,
        "to": event.to_status,
        "withdrawalLevel": event.withdrawal_level,
        "time": stamp(event.occurred_at),
        "hash": event.hash,
        "prevHash": event.prev_hash,
        "collectionMethod": event.channel,
        "auth": event.auth,
        "assistedBy": event.assisted_by,
        "confirmedVia": event.confirmed_via,
    }


def sign_receipt(document: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """``document`` with its signature block, signed by ``key``."""
    unsigned = {name: value for name, value in document.items() if name != "signature"}
    value = base64.b64encode(key.sign(canonical_json(unsigned))).decode("ascii")
    block = {"alg": ALGORITHM, "keyId": key_id(key.public_key()), "value": value}
    return unsigned | {"signature": block}


def verify_receipt(document: object, trusted: Ed25519PublicKey) -> dict[str, Any]:
    """Check a parsed receipt was signed by ``trusted``, unchanged, and well formed.

    Returns the document; raises :class:`ReceiptError` naming the field at fault.
    """
    if not isinstance(document, dict):
        raise ReceiptError("not a receipt: expected a JSON object")
    block = document.get("signature")
    if not isinstance(block, dict):
        raise ReceiptError("signature: missing")
    if block.get("alg") != ALGORITHM:
        raise ReceiptError(f"signature.alg: expected {ALGORITHM!r}, got {block.get('alg')!r}")
    expected = key_id(trusted)
    if block.get("keyId") != expected:
        raise ReceiptError(
            f"signature.keyId: signed by {block.get('keyId')!r}, not by the trusted key {expected!r}"
        )
    try:
        raw = base64.b64decode(str(block.get("value", "")), validate=True)
        unsigned = {name: value for name, value in document.items() if name != "signature"}
        trusted.verify(raw, canonical_json(unsigned))
    except (binascii.Error, InvalidSignature) as error:
        raise ReceiptError(
            "signature: does not verify: the receipt was changed after it was signed"
        ) from error
    check_structure(document)
    return document


def check_structure(document: Mapping[str, Any]) -> None:
    """The sections and the fields people rely on; :class:`ReceiptError` if one is wrong."""
    for section in SECTIONS:
        if section not in document:
            raise ReceiptError(f"{section}: missing")
    header = _object(document, "header")
    if header.get("schemaVersion") != SCHEMA:
        raise ReceiptError(f"header.schemaVersion: expected {SCHEMA!r}")
    reference = header.get("consentReceiptID")
    if not isinstance(reference, str) or not PATTERN.match(reference):
        raise ReceiptError("header.consentReceiptID: expected a reference like R-7QF3-M2XA")
    if not isinstance(header.get("consentTimestamp"), int):
        raise ReceiptError("header.consentTimestamp: expected seconds since 1970")
    processing = _object(document, "processing")
    services = processing.get("services")
    if not isinstance(services, list) or not services:
        raise ReceiptError("processing.services: expected a list of one study")
    for n, service in enumerate(services):
        purposes = service.get("purposes") if isinstance(service, dict) else None
        if not isinstance(purposes, list) or not all(
            isinstance(p, dict) and isinstance(p.get("purpose"), str) for p in purposes
        ):
            raise ReceiptError(f"processing.services[{n}].purposes: expected a list of purposes")
    parties = _object(document, "parties")
    if not isinstance(parties.get("piiPrincipalId"), str):
        raise ReceiptError("parties.piiPrincipalId: expected the study's reference")
    events = document.get("events")
    if not isinstance(events, list) or not all(
        isinstance(e, dict) and isinstance(e.get("hash"), str) for e in events
    ):
        raise ReceiptError("events: expected a list of ledger events with their hashes")


def _object(document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = document.get(name)
    if not isinstance(value, dict):
        raise ReceiptError(f"{name}: expected an object")
    return value
