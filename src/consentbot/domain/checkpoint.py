"""Ledger checkpoints: every participant's event count and head hash, signed with Ed25519.

A checkpoint is kept outside the database. Whoever can write the database can
rewrite an event and recompute every later hash and the participant's head, and
the chain still verifies; it cannot make the ledger match a checkpoint taken
before, nor sign a new one without the key. The format is described in
docs/audit.md and is stable: other tools check these files.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from consentbot.domain.access_checkpoint import AccessEntry, AccessEntryError
from consentbot.domain.ledger_hash import GENESIS

FORMAT = "consentbot-checkpoint/1"
PREFIX = 16
"""Hex characters of each event hash kept: enough to name the changed event."""
_HASH = re.compile(r"^[0-9a-f]{64}$")
_PREFIX = re.compile(r"^[0-9a-f]{16}$")
_TIME = "%Y-%m-%dT%H:%M:%SZ"


class CheckpointError(ValueError):
    """The checkpoint cannot be trusted: malformed, signed by another key, or altered."""


@dataclass(frozen=True, slots=True)
class CheckpointEntry:
    """One participant's ledger at the checkpoint."""

    id: int
    study: str
    reference: str
    events: int
    head: str
    hashes: tuple[str, ...]
    """The first 16 hex characters of each event's hash, in seq order."""
    event_ids: tuple[int, ...]
    """Each event's row id, in seq order: names an event that was removed."""

    @classmethod
    def of(
        cls, id: int, study: str, reference: str, events: Sequence[tuple[int, str]]
    ) -> CheckpointEntry:
        """The entry for a participant whose events, in seq order, are ``(id, hash)``."""
        return cls(
            id=id,
            study=study,
            reference=reference,
            events=len(events),
            head=events[-1][1] if events else GENESIS,
            hashes=tuple(digest[:PREFIX] for _, digest in events),
            event_ids=tuple(event_id for event_id, _ in events),
        )

    def to_json(self) -> dict[str, Any]:
        """The entry as it appears in the file."""
        return {
            "id": self.id,
            "study": self.study,
            "reference": self.reference,
            "events": self.events,
            "head": self.head,
            "hashes": list(self.hashes),
            "event_ids": list(self.event_ids),
        }


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed checkpoint of the whole ledger."""

    created_at: datetime
    participants: tuple[CheckpointEntry, ...]
    root: str
    public_key: str
    signature: str
    accesses: tuple[AccessEntry, ...] = ()
    """Each study's access records (optional: absent from checkpoints without any)."""

    @property
    def taken(self) -> str:
        """When it was taken, as written in the file (UTC, to the second)."""
        return self.created_at.strftime(_TIME)

    @property
    def event_count(self) -> int:
        """Events covered, over every participant."""
        return sum(entry.events for entry in self.participants)

    def to_json(self) -> dict[str, Any]:
        """Every field, as the file holds them."""
        return _unsigned(self.created_at, self.participants, self.public_key, self.accesses) | {
            "root": self.root,
            "signature": self.signature,
        }

    def render(self) -> str:
        """The file's text: one participant per line, so a diff shows what changed."""

        def value(item: object) -> str:
            return json.dumps(item, ensure_ascii=False)

        rows = ",\n".join(f"  {value(entry.to_json())}" for entry in self.participants)
        participants = f"[\n{rows}\n ]" if rows else "[]"
        studies = ",\n".join(f"  {value(entry.to_json())}" for entry in self.accesses)
        accesses = f' "accesses": [\n{studies}\n ],\n' if studies else ""
        return (
            f'{{"format": {value(FORMAT)},\n'
            f' "created_at": {value(self.taken)},\n'
            f' "participants": {participants},\n'
            f"{accesses}"
            f' "root": {value(self.root)},\n'
            f' "public_key": {value(self.public_key)},\n'
            f' "signature": {value(self.signature)}}}\n'
        )


def root_of(entries: Iterable[CheckpointEntry]) -> str:
    """SHA-256 over one line ``id:study:events:head\\n`` per participant, sorted by id."""
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.id):
        digest.update(f"{entry.id}:{entry.study}:{entry.events}:{entry.head}\n".encode())
    return digest.hexdigest()


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """What the signature covers: keys sorted at every level, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def public_key_text(key: Ed25519PublicKey) -> str:
    """Base64 of the raw 32-byte public key: how it is published and written in checkpoints."""
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def decode_public_key(text: str) -> Ed25519PublicKey:
    """The key from its published form; raise CheckpointError if it is not one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as error:
        raise CheckpointError(
            "a public key is the base64 of 32 raw bytes (consentbot audit public-key prints it)"
        ) from error


def sign(
    entries: Iterable[CheckpointEntry],
    created_at: datetime,
    key: Ed25519PrivateKey,
    accesses: Iterable[AccessEntry] = (),
) -> Checkpoint:
    """A checkpoint of ``entries`` (sorted by id) and ``accesses`` (by study), signed by ``key``."""
    participants = tuple(sorted(entries, key=lambda e: e.id))
    studies = tuple(sorted(accesses, key=lambda e: e.study))
    moment = created_at.astimezone(UTC).replace(microsecond=0)
    public = public_key_text(key.public_key())
    unsigned = _unsigned(moment, participants, public, studies) | {"root": root_of(participants)}
    signature = base64.b64encode(key.sign(canonical_json(unsigned))).decode("ascii")
    return Checkpoint(moment, participants, unsigned["root"], public, signature, studies)


def _unsigned(
    created_at: datetime,
    participants: Sequence[CheckpointEntry],
    public_key: str,
    accesses: Sequence[AccessEntry] = (),
) -> dict[str, Any]:
    # "accesses" only when there are some: a checkpoint without access records is signed
    # exactly as before they existed, so older tools still read it.
    return {
        "format": FORMAT,
        "created_at": created_at.strftime(_TIME),
        "participants": [entry.to_json() for entry in participants],
        "public_key": public_key,
    } | ({"accesses": [entry.to_json() for entry in accesses]} if accesses else {})


def parse(text: str, trusted: Ed25519PublicKey) -> Checkpoint:
    """Read a checkpoint and check it was signed by ``trusted`` and not changed since.

    Raises :class:`CheckpointError` naming the field at fault.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise CheckpointError(f"not JSON: {error}") from error
    if not isinstance(document, dict):
        raise CheckpointError("not a checkpoint: expected a JSON object")
    if document.get("format") != FORMAT:
        raise CheckpointError(f"format: expected {FORMAT!r}, got {document.get('format')!r}")
    public_key = _string(document, "public_key")
    expected = public_key_text(trusted)
    if public_key != expected:
        raise CheckpointError(
            f"public_key: signed by {public_key[:12]}…, not by the trusted key {expected[:12]}…"
        )
    try:
        signature = base64.b64decode(_string(document, "signature"), validate=True)
        unsigned = {name: value for name, value in document.items() if name != "signature"}
        trusted.verify(signature, canonical_json(unsigned))
    except (binascii.Error, InvalidSignature) as error:
        raise CheckpointError(
            "signature: does not verify: the file was changed after it was signed"
        ) from error
    # Signed by the trusted key: what follows finds a bug or a key used wrongly, not a forgery.
    try:
        created_at = datetime.strptime(_string(document, "created_at"), _TIME).replace(tzinfo=UTC)
    except ValueError as error:
        raise CheckpointError(
            "created_at: expected a UTC time like 2026-12-02T10:00:00Z"
        ) from error
    raw = document.get("participants")
    if not isinstance(raw, list):
        raise CheckpointError("participants: expected a list")
    entries = tuple(_entry(item, f"participants[{n}]") for n, item in enumerate(raw))
    root = _string(document, "root")
    if root != root_of(entries):
        raise CheckpointError("root: does not match the participants listed")
    raw_accesses = document.get("accesses", [])
    if not isinstance(raw_accesses, list):
        raise CheckpointError("accesses: expected a list")
    try:
        accesses = tuple(
            AccessEntry.parse(item, f"accesses[{n}]") for n, item in enumerate(raw_accesses)
        )
    except AccessEntryError as error:
        raise CheckpointError(str(error)) from error
    return Checkpoint(created_at, entries, root, public_key, document["signature"], accesses)


def _string(data: Mapping[str, Any], name: str, where: str = "") -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise CheckpointError(f"{where}{name}: expected a string")
    return value


def _entry(item: object, where: str) -> CheckpointEntry:
    if not isinstance(item, dict):
        raise CheckpointError(f"{where}: expected an object")

    def number(name: str) -> int:
        value = item.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CheckpointError(f"{where}.{name}: expected a whole number")
        return value

    head = _string(item, "head", f"{where}.")
    hashes, ids = item.get("hashes"), item.get("event_ids")
    if not isinstance(hashes, list) or not all(
        isinstance(h, str) and _PREFIX.match(h) for h in hashes
    ):
        raise CheckpointError(f"{where}.hashes: expected a list of {PREFIX} hex characters each")
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise CheckpointError(f"{where}.event_ids: expected a list of event ids")
    entry = CheckpointEntry(
        id=number("id"),
        study=_string(item, "study", f"{where}."),
        reference=_string(item, "reference", f"{where}."),
        events=number("events"),
        head=head,
        hashes=tuple(hashes),
        event_ids=tuple(ids),
    )
    if not _HASH.match(head) or head[:PREFIX] != (entry.hashes[-1] if hashes else GENESIS[:PREFIX]):
        raise CheckpointError(f"{where}.head: does not end the hashes listed")
    if len(hashes) != entry.events or len(ids) != entry.events:
        raise CheckpointError(f"{where}: events says {entry.events}, hashes lists {len(hashes)}")
    return entry
