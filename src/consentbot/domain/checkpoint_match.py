"""Does a participant's ledger today still start with what a checkpoint recorded?

Events added after the checkpoint are fine (the chain and the rules check them);
anything at or before it that differs, or is gone, is named by seq and event id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from consentbot.domain.checkpoint import PREFIX, CheckpointEntry
from consentbot.domain.findings import Finding, Severity


@dataclass(frozen=True, slots=True)
class LedgerNow:
    """A participant's ledger as the database holds it now."""

    study: str
    reference: str
    events: Sequence[tuple[int | None, int, str]]
    """``(event id, seq, hash)`` in seq order."""


def match(entry: CheckpointEntry, now: LedgerNow | None, taken: str) -> list[Finding]:
    """What differs between ``entry`` (from the checkpoint taken at ``taken``) and ``now``.

    ``now`` is None when the participant is no longer in the database.
    """
    if now is None:
        return [
            _fault(
                None,
                None,
                f"removed, with all its {entry.events} events: it was in the checkpoint of {taken}",
            )
        ]
    findings: list[Finding] = []
    for name, then, today in (
        ("study", entry.study, now.study),
        ("reference", entry.reference, now.reference),
    ):
        if then != today:
            findings.append(
                _fault(
                    None, None, f"{name} was {then!r} at the checkpoint of {taken}, now {today!r}"
                )
            )
    by_seq = {seq: (event_id, digest) for event_id, seq, digest in now.events}
    changed: list[tuple[int, int | None]] = []
    for seq, (prefix, checkpoint_id) in enumerate(
        zip(entry.hashes, entry.event_ids, strict=True), 1
    ):
        found = by_seq.get(seq)
        if found is None:
            findings.append(
                _fault(seq, checkpoint_id, f"removed: it was in the checkpoint of {taken}")
            )
        elif found[1][:PREFIX] != prefix:
            changed.append((seq, found[0]))
    if changed:
        (seq, event_id), later = changed[0], len(changed) - 1
        rehashed = f"; the hashes of {later} later events differ with it" if later else ""
        findings.append(_fault(seq, event_id, f"changed since the checkpoint of {taken}{rehashed}"))
    elif entry.events and (last := by_seq.get(entry.events)) and last[1] != entry.head:
        # Every prefix matches, the full head does not: the binding part of the checkpoint.
        findings.append(
            _fault(entry.events, last[0], f"its hash is not the head in the checkpoint of {taken}")
        )
    return findings


def _fault(seq: int | None, event_id: int | None, problem: str) -> Finding:
    return Finding(Severity.FAULT, seq, event_id, problem)
