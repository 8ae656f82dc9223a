"""The access records in a ledger checkpoint: per study, the count, head and each record's hash.

An optional field of the checkpoint (``"accesses"``), written only when there are access
records: checkpoints taken before access records existed stay valid and byte-identical.
Matching names the first record changed or removed since the checkpoint.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from consentbot.domain.findings import Finding, Severity
from consentbot.domain.ledger_hash import GENESIS

PREFIX = 16
"""Hex characters of each record's hash kept (as for ledger events)."""
_HASH = re.compile(r"^[0-9a-f]{64}$")
_PREFIX = re.compile(r"^[0-9a-f]{16}$")


class AccessEntryError(ValueError):
    """An ``accesses`` entry of a checkpoint is malformed."""


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One study's chain of access records at the checkpoint."""

    study: str
    records: int
    head: str
    hashes: tuple[str, ...]
    """The first 16 hex characters of each record's hash, in seq order."""
    record_ids: tuple[int, ...]
    """Each record's row id, in seq order: names a record that was removed."""

    @classmethod
    def of(cls, study: str, records: Sequence[tuple[int, str]]) -> AccessEntry:
        """The entry for a study whose records, in seq order, are ``(id, hash)``."""
        return cls(
            study=study,
            records=len(records),
            head=records[-1][1] if records else GENESIS,
            hashes=tuple(digest[:PREFIX] for _, digest in records),
            record_ids=tuple(record_id for record_id, _ in records),
        )

    def to_json(self) -> dict[str, Any]:
        """The entry as it appears in the file."""
        return {
            "study": self.study,
            "records": self.records,
            "head": self.head,
            "hashes": list(self.hashes),
            "record_ids": list(self.record_ids),
        }

    @classmethod
    def parse(cls, item: object, where: str) -> AccessEntry:
        """An entry read from a checkpoint; raise AccessEntryError naming the field at fault."""
        if not isinstance(item, dict):
            raise AccessEntryError(f"{where}: expected an object")
        study, head, count = item.get("study"), item.get("head"), item.get("records")
        hashes, ids = item.get("hashes"), item.get("record_ids")
        if not isinstance(study, str):
            raise AccessEntryError(f"{where}.study: expected a string")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise AccessEntryError(f"{where}.records: expected a whole number")
        if not isinstance(hashes, list) or not all(
            isinstance(h, str) and _PREFIX.match(h) for h in hashes
        ):
            raise AccessEntryError(f"{where}.hashes: expected a list of {PREFIX} hex characters")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise AccessEntryError(f"{where}.record_ids: expected a list of record ids")
        if len(hashes) != count or len(ids) != count:
            raise AccessEntryError(f"{where}: records says {count}, hashes lists {len(hashes)}")
        last = hashes[-1] if hashes else GENESIS[:PREFIX]
        if not isinstance(head, str) or not _HASH.match(head) or head[:PREFIX] != last:
            raise AccessEntryError(f"{where}.head: does not end the hashes listed")
        return cls(study, count, head, tuple(hashes), tuple(ids))


def match_accesses(
    entry: AccessEntry, now: Sequence[tuple[int | None, int, str]], taken: str
) -> list[Finding]:
    """What differs between ``entry`` and the study's records ``now`` (``(id, seq, hash)``)."""
    by_seq = {seq: (record_id, digest) for record_id, seq, digest in now}
    findings: list[Finding] = []
    changed: list[tuple[int, int | None]] = []
    for seq, (prefix, then_id) in enumerate(zip(entry.hashes, entry.record_ids, strict=True), 1):
        found = by_seq.get(seq)
        if found is None:
            problem = f"removed: it was in the checkpoint of {taken}"
            findings.append(Finding(Severity.FAULT, seq, then_id, problem))
        elif found[1][:PREFIX] != prefix:
            changed.append((seq, found[0]))
    if changed:
        (seq, record_id), later = changed[0], len(changed) - 1
        rehashed = f"; the hashes of {later} later records differ with it" if later else ""
        problem = f"changed since the checkpoint of {taken}{rehashed}"
        findings.append(Finding(Severity.FAULT, seq, record_id, problem))
    elif entry.records and (last := by_seq.get(entry.records)) and last[1] != entry.head:
        problem = f"its hash is not the head in the checkpoint of {taken}"
        findings.append(Finding(Severity.FAULT, entry.records, last[0], problem))
    return findings
