"""Signed consent receipts: issued inside a turn's transaction, read by the person and the study.

A turn that gave, changed or withdrew consent (:func:`consentbot.domain.receipt_due.receipt_due`)
gets one receipt covering every purpose it changed; its reference goes into the turn's
reply. The document and its signature are built by :mod:`consentbot.domain.receipt`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.conversation.outcome import Turn
from consentbot.domain.checkpoint import canonical_json
from consentbot.domain.receipt import (
    ReceiptEvent,
    ReceiptFacts,
    ReceiptPurpose,
    receipt_document,
    sign_receipt,
)
from consentbot.domain.receipt_due import receipt_due
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import UnknownParticipant
from consentbot.services.participation import Participation
from consentbot.store.participants import ParticipantRepository
from consentbot.store.receipts import ReceiptRepository
from consentbot.store.tables import ConsentEvent, ConsentReceipt


@dataclass(frozen=True, slots=True)
class IssuedReceipt:
    """A receipt as people see it listed: its reference, when, and the signed document."""

    reference: str
    created_at: datetime
    document: dict[str, Any]

    @classmethod
    def of(cls, row: ConsentReceipt) -> IssuedReceipt:
        """From its stored row."""
        document: dict[str, Any] = json.loads(row.document)
        return cls(row.reference, row.created_at, document)


def policy_url(public_url: str | None, study_id: str, version: int) -> str:
    """Where the exact published text of that version is served."""
    return f"{public_url or ''}/api/v1/studies/{study_id}/versions/{version}"


async def issue_receipt(
    session: AsyncSession,
    who: Participation,
    turn: Turn,
    events: Sequence[ConsentEvent],
    *,
    changing: bool,
    key: Callable[[], Ed25519PrivateKey],
    public_url: str | None,
    now: datetime,
) -> str | None:
    """Sign and store the receipt of ``turn``, if it earns one; return its reference.

    ``events`` are the ledger events the turn just appended, ``changing`` whether the
    person was answering again after CHANGE when the turn started.
    """
    due = receipt_due(((c.action, c.from_status) for c in turn.changes), changing=changing)
    if not due or not events:
        return None
    study, participant = who.study, who.participant
    text = study.text(participant.language)
    after = {purpose: consent.status.value for purpose, consent in who.consent.items()}
    after |= {change.purpose: change.to_status.value for change in turn.changes}
    changed = {change.purpose for change in turn.changes}
    repository = ReceiptRepository(session)
    reference = await repository.unused_reference()
    facts = ReceiptFacts(
        reference=reference,
        issued_at=now,
        study_id=study.id,
        study_title=text.title,
        content_version=study.version,
        content_digest=text.digest,
        language=text.language,
        participant=participant.reference,
        contact_email=study.contact.email,
        contact_phone=study.contact.phone,
        policy_url=policy_url(public_url, study.id, study.version),
        purposes=[
            ReceiptPurpose(
                id=purpose.id,
                title=text.purposes[purpose.id].title,
                required=purpose.required,
                status=after.get(purpose.id, "none"),
                changed=purpose.id in changed,
            )
            for purpose in study.purposes
        ],
        events=[_event(event) for event in events],
    )
    # Asked for only now: a service that never issues a receipt never makes a key.
    signed = sign_receipt(receipt_document(facts), key())
    await repository.add(
        reference=reference,
        participant_id=who.participant_id,
        study_id=study.id,
        document=canonical_json(signed).decode("utf-8"),
        signature=signed["signature"]["value"],
        now=now,
    )
    return reference


def _event(event: ConsentEvent) -> ReceiptEvent:
    return ReceiptEvent(
        seq=event.seq,
        purpose=event.purpose_id,
        action=event.action,
        from_status=event.from_status,
        to_status=event.to_status,
        withdrawal_level=event.withdrawal_level,
        occurred_at=event.occurred_at,
        hash=event.hash,
        prev_hash=event.prev_hash,
        channel=event.channel,
        auth=event.auth.value if event.auth is not None else None,
        assisted_by=event.assisted_by,
        confirmed_via=event.confirmed_via,
    )


class ReceiptQueries:
    """Receipts for the study's API and for the person's verified web page."""

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

    async def for_reference(self, study_id: str, reference: str) -> list[IssuedReceipt]:
        """A participant's receipts, newest first; :class:`UnknownParticipant` if none such."""
        async with self.deps.db.read() as session:
            participant = await ParticipantRepository(session).by_reference(study_id, reference)
            if participant is None or participant.id is None:
                raise UnknownParticipant(
                    f"no participant {reference!r} in study {study_id!r}", field="reference"
                )
            rows = await ReceiptRepository(session).of_participant(participant.id)
        return [IssuedReceipt.of(row) for row in rows]

    async def for_participant(self, participant_id: int) -> list[IssuedReceipt]:
        """The receipts of a participant the caller has identified, newest first."""
        async with self.deps.db.read() as session:
            rows = await ReceiptRepository(session).of_participant(participant_id)
        return [IssuedReceipt.of(row) for row in rows]
