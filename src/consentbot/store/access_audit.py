"""Read each study's access records for an audit, and check their chain.

One read-only transaction per study (one snapshot on PostgreSQL, as store/ledger_audit.py
does per batch), so a study's head, records and links always belong together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlmodel import col, select

from consentbot.domain.accesses import access_hash, link_hash, participants_digest
from consentbot.domain.findings import Finding, Severity
from consentbot.domain.ledger_hash import GENESIS
from consentbot.store.accesses import hashed_access_fields
from consentbot.store.database import Database
from consentbot.store.tables import AccessChain, DataAccess, DataAccessParticipant


@dataclass(frozen=True, slots=True)
class Link:
    """One participant's link to a record, as stored (participant and nonce gone once erased)."""

    participant_id: int | None
    nonce: str | None
    link_hash: str


@dataclass(frozen=True, slots=True)
class StudyAccesses:
    """A study's chain head, its records in seq order, and each record's links."""

    study: str
    seq: int
    head: str
    records: tuple[DataAccess, ...]
    links: dict[int, list[Link]]


async def access_chains(db: Database) -> AsyncIterator[StudyAccesses]:
    """Every study with access records (or a chain head), by study id."""
    async with db.read() as session:
        studies = sorted(
            set((await session.exec(select(AccessChain.study_id))).all())
            | set((await session.exec(select(DataAccess.study_id).distinct())).all())
        )
    for study in studies:
        async with db.read() as session:
            if not db.is_sqlite:
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            chain = await session.get(AccessChain, study)
            records = (
                await session.exec(
                    select(DataAccess)
                    .where(DataAccess.study_id == study)
                    .order_by(col(DataAccess.seq))
                )
            ).all()
            links: dict[int, list[Link]] = defaultdict(list)
            rows = await session.exec(
                select(
                    DataAccessParticipant.access_id,
                    DataAccessParticipant.participant_id,
                    DataAccessParticipant.nonce,
                    DataAccessParticipant.link_hash,
                )
                .join(DataAccess, col(DataAccess.id) == col(DataAccessParticipant.access_id))
                .where(DataAccess.study_id == study)
            )
            for access_id, participant_id, nonce, digest in rows.all():
                links[access_id].append(Link(participant_id, nonce, digest))
        yield StudyAccesses(
            study,
            chain.seq if chain else 0,
            chain.head if chain else GENESIS,
            tuple(records),
            dict(links),
        )


def access_chain_faults(found: StudyAccesses) -> list[Finding]:
    """The first break in a study's chain of access records, or a head that does not end it.

    Detects a changed record (its hash, or its participants' digest), a participant
    added to or removed from a record, a removed or reordered record, and a removed last
    record (the chain's head).
    """
    previous = GENESIS
    for expected_seq, record in enumerate(found.records, start=1):
        problem = _record_problem(record, found.links.get(record.id or 0, []), expected_seq)
        if problem is None and record.prev_hash != previous:
            problem = "prev_hash does not match the record before it"
        if problem is not None:
            return [Finding(Severity.FAULT, record.seq, record.id, problem)]
        previous = record.hash
    count = len(found.records)
    if found.seq == count and found.head == previous:
        return []
    if found.seq > count:
        problem = (
            f"the study's last access record is seq {found.seq}, but its records end at "
            f"seq {count}: a record was removed"
        )
    elif found.seq < count:
        problem = f"records go on to seq {count} after the study's head, seq {found.seq}"
    else:
        problem = "the study's head hash is not the hash of its last access record"
    return [Finding(Severity.FAULT, found.seq, None, problem)]


def _record_problem(record: DataAccess, links: list[Link], expected_seq: int) -> str | None:
    if record.seq != expected_seq:
        return f"expected seq {expected_seq}: an earlier record was removed"
    if record.hash != access_hash(record.prev_hash, hashed_access_fields(record)):
        return "hash does not match the record's contents: it was altered"
    assert record.id is not None
    for link in links:
        if link.participant_id is None or link.nonce is None:
            continue  # unlinked on erasure: the hash stands for a person no longer named
        if link.link_hash != link_hash(link.nonce, record.id, link.participant_id):
            return "a participant of this record was changed"
    if len(links) != record.participant_count or record.participants_digest != (
        participants_digest(link.link_hash for link in links)
    ):
        return "its participants are not the ones recorded: one was added or removed"
    return None
