"""Access records: who used which participants' data, and the hashes that make them tamper-evident.

An access record is appended once per ``POST .../accesses`` call and never changed.
Records are hash-chained per study (each record's hash covers its fields and the
hash of the study's record before it), as the consent ledger is per participant.

The participants of a record are not listed in its hash one by one (a record may name
100,000): the record carries ``participants_digest``, a SHA-256 over the sorted *link
hashes* of its participants. A link hash is ``SHA-256(nonce:access id:participant id)``
with a random nonce kept on the link row. Erasing a person removes the nonce and the
participant id from their rows (docs/retention.md): the record that an access happened
stays, and still verifies, but no longer says who it was about.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from consentbot.domain.ledger_hash import canonical, event_hash

MAX_PARTICIPANTS = 100_000
"""Participants in one access record: a bigger extract is recorded in several calls."""


class AccessorKind(StrEnum):
    """What kind of organisation accessed the data (a company is named as one to people)."""

    UNIVERSITY = "university"
    NHS = "nhs"
    COMPANY = "company"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class AccessSeen:
    """One access to a person's data, as WHO tells them about it."""

    purpose: str
    accessor_name: str
    accessor_organisation: str
    accessor_kind: AccessorKind
    at: datetime


def link_hash(nonce: str, access_id: int, participant_id: int) -> str:
    """The hash that binds one participant to one access record."""
    return hashlib.sha256(f"{nonce}:{access_id}:{participant_id}".encode("ascii")).hexdigest()


def participants_digest(link_hashes: Iterable[str]) -> str:
    """SHA-256 over the sorted link hashes of a record, one per line."""
    digest = hashlib.sha256()
    for value in sorted(link_hashes):
        digest.update(value.encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()


def access_hash(prev_hash: str, fields: Mapping[str, object]) -> str:
    """A record's hash: the consent ledger's hashing (``event_hash``) over its fields."""
    return event_hash(prev_hash, fields)


def access_fields(
    *,
    study_id: str,
    seq: int,
    purpose_id: str,
    accessor_name: str,
    accessor_organisation: str,
    accessor_kind: str,
    dataset: str,
    reason: str,
    recorded_at: datetime,
    participant_count: int,
    participants_digest: str,
) -> dict[str, object]:
    """The fields a record's hash covers: everything but its id and its hashes."""
    return {
        "study_id": study_id,
        "seq": seq,
        "purpose_id": purpose_id,
        "accessor_name": accessor_name,
        "accessor_organisation": accessor_organisation,
        "accessor_kind": accessor_kind,
        "dataset": dataset,
        "reason": reason,
        "recorded_at": recorded_at,
        "participant_count": participant_count,
        "participants_digest": participants_digest,
    }


def request_digest(body: Mapping[str, object]) -> str:
    """What an ``Idempotency-Key`` is bound to: the SHA-256 of the request's canonical JSON."""
    return hashlib.sha256(canonical(body)).hexdigest()
