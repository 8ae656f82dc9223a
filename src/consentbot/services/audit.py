"""Audit the consent ledger: verify it (chains, rules, projection, a checkpoint) or checkpoint it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consentbot.content.live import Studies
from consentbot.domain.access_checkpoint import AccessEntry, match_accesses
from consentbot.domain.checkpoint import Checkpoint, CheckpointEntry, sign
from consentbot.domain.checkpoint_match import LedgerNow, match
from consentbot.domain.findings import Finding, Severity
from consentbot.domain.ledger_replay import Projection, ReplayEvent, replay
from consentbot.store.access_audit import StudyAccesses, access_chain_faults, access_chains
from consentbot.store.database import Database
from consentbot.store.ledger_audit import (
    BatchHook,
    ParticipantLedger,
    chain_faults,
    ledger_batches,
)


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """A finding, with the participant it is about named the way staff can look them up."""

    participant_id: int
    study: str
    reference: str
    finding: Finding

    @property
    def is_fault(self) -> bool:
        """Faults fail verification; warnings do not."""
        return self.finding.severity is Severity.FAULT

    def __str__(self) -> str:
        found = self.finding
        where = f"participant {self.participant_id} ({self.study}, reference {self.reference})"
        if found.seq is not None:
            event = f"event {found.event_id}" if found.event_id is not None else "event"
            where += f", {event} (seq {found.seq})"
        return f"{found.severity}: {where}: {found.problem}"


@dataclass(frozen=True, slots=True)
class AccessFinding:
    """A finding about a study's access records (seq and id name the record)."""

    study: str
    finding: Finding

    @property
    def is_fault(self) -> bool:
        """Faults fail verification; warnings do not."""
        return self.finding.severity is Severity.FAULT

    def __str__(self) -> str:
        found = self.finding
        where = f"access records of study {self.study}"
        if found.seq is not None:
            record = f"record {found.event_id}" if found.event_id is not None else "record"
            where += f", {record} (seq {found.seq})"
        return f"{found.severity}: {where}: {found.problem}"


Found = AuditFinding | AccessFinding
"""Any finding of an audit."""


@dataclass
class AuditReport:
    """What a verification looked at and found."""

    participants: int = 0
    events: int = 0
    findings: list[Found] = field(default_factory=list)
    checkpoint: Checkpoint | None = None
    access_records: int = 0

    @property
    def faults(self) -> list[Found]:
        """Findings that mean the ledger cannot be trusted."""
        return [f for f in self.findings if f.is_fault]

    @property
    def warnings(self) -> list[Found]:
        """Findings that could not be checked, reported without failing."""
        return [f for f in self.findings if not f.is_fault]


class LedgerBroken(Exception):
    """A checkpoint was refused: signing it would vouch for a broken or rewritten ledger."""

    def __init__(self, faults: Sequence[Found]) -> None:
        super().__init__(f"{len(faults)} faults: run consentbot audit verify")
        self.faults = list(faults)


class LedgerAudit:
    """Reads the ledger in read-only batches; never blocks the service's writes."""

    def __init__(
        self,
        db: Database,
        studies: Studies,
        *,
        batch_size: int = 200,
        on_batch: BatchHook | None = None,
    ) -> None:
        self.db = db
        self.studies = studies
        self.batch_size = batch_size
        self.on_batch = on_batch

    async def verify(self, checkpoint: Checkpoint | None = None) -> AuditReport:
        """Check every chain, replay every ledger through the rules, match ``checkpoint``.

        ``checkpoint`` must already be parsed and its signature checked.
        """
        report = AuditReport(checkpoint=checkpoint)
        against = _Against(checkpoint)
        async for batch in ledger_batches(
            self.db, batch_size=self.batch_size, on_batch=self.on_batch
        ):
            for ledger in batch:
                report.participants += 1
                report.events += len(ledger.events)
                findings = chain_faults(ledger) + self._replay(ledger) + against.match(ledger)
                report.findings += [_named(ledger, found) for found in findings]
        report.findings += against.gone()
        async for study in access_chains(self.db):
            report.access_records += len(study.records)
            found = access_chain_faults(study) + against.match_accesses(study)
            report.findings += [AccessFinding(study.study, f) for f in found]
        report.findings += against.accesses_gone()
        return report

    async def checkpoint(
        self, key: Ed25519PrivateKey, now: datetime, *, extends: Checkpoint | None = None
    ) -> Checkpoint:
        """Every participant's count and head, signed.

        Refused (:class:`LedgerBroken`) if a chain is broken or, given the previous
        checkpoint ``extends``, if anything it covers was changed or removed: a new
        checkpoint must never vouch for tampering done since the last one.
        """
        entries: list[CheckpointEntry] = []
        faults: list[Found] = []
        against = _Against(extends)
        async for batch in ledger_batches(
            self.db, batch_size=self.batch_size, on_batch=self.on_batch
        ):
            for ledger in batch:
                found = chain_faults(ledger) + against.match(ledger)
                faults += [_named(ledger, finding) for finding in found]
                chain = [(event.id or 0, event.hash) for event in ledger.events]
                entries.append(CheckpointEntry.of(ledger.id, ledger.study, ledger.reference, chain))
        faults += against.gone()
        accesses: list[AccessEntry] = []
        async for study in access_chains(self.db):
            found = access_chain_faults(study) + against.match_accesses(study)
            faults += [AccessFinding(study.study, f) for f in found]
            chain = [(record.id or 0, record.hash) for record in study.records]
            if chain:
                accesses.append(AccessEntry.of(study.study, chain))
        faults += against.accesses_gone()
        if faults:
            raise LedgerBroken(faults)
        return sign(entries, now, key, accesses)

    def _replay(self, ledger: ParticipantLedger) -> list[Finding]:
        study = self.studies.get(ledger.study)
        events = [
            ReplayEvent(
                id=e.id,
                seq=e.seq,
                purpose_id=e.purpose_id,
                action=e.action,
                from_status=e.from_status,
                to_status=e.to_status,
                withdrawal_level=e.withdrawal_level,
                occurred_at=e.occurred_at,
                confirm_from=e.confirm_from,
                confirm_by=e.confirm_by,
            )
            for e in ledger.events
        ]
        projection = {
            s.purpose_id: Projection(s.status, s.since, s.pending_since, s.withdrawal_level)
            for s in ledger.states
        }
        rules = study.cooling_off if study is not None else None
        return replay(
            events,
            projection,
            rules,
            study=ledger.study,
            permitted_purposes=ledger.permitted_purposes,
        )


class _Against:
    """Matches ledgers to a checkpoint as they stream past; the entries left over are gone."""

    def __init__(self, checkpoint: Checkpoint | None) -> None:
        self.expected = {e.id: e for e in checkpoint.participants} if checkpoint else {}
        self.taken = checkpoint.taken if checkpoint else ""
        self.studies = {e.study: e for e in checkpoint.accesses} if checkpoint else {}

    def match(self, ledger: ParticipantLedger) -> list[Finding]:
        entry = self.expected.pop(ledger.id, None)
        if entry is None:
            return []  # not in the checkpoint: joined since
        now = LedgerNow(
            ledger.study, ledger.reference, [(e.id, e.seq, e.hash) for e in ledger.events]
        )
        return match(entry, now, self.taken)

    def match_accesses(self, study: StudyAccesses) -> list[Finding]:
        entry = self.studies.pop(study.study, None)
        if entry is None:
            return []  # no records at the checkpoint: all recorded since
        now = [(record.id, record.seq, record.hash) for record in study.records]
        return match_accesses(entry, now, self.taken)

    def accesses_gone(self) -> list[AccessFinding]:
        return [
            AccessFinding(entry.study, found)
            for entry in self.studies.values()
            for found in match_accesses(entry, [], self.taken)
        ]

    def gone(self) -> list[AuditFinding]:
        return [
            AuditFinding(entry.id, entry.study, entry.reference, found)
            for entry in self.expected.values()
            for found in match(entry, None, self.taken)
        ]


def _named(ledger: ParticipantLedger, found: Finding) -> AuditFinding:
    return AuditFinding(ledger.id, ledger.study, ledger.reference, found)
