"""Signed consent receipts: written with the turn's ledger events, read by the person and
the study (services/receipts.py builds them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.receipt_reference import new_reference
from consentbot.store.tables import ConsentReceipt

ATTEMPTS = 10
"""New references tried before giving up: with 2^40 of them, one collision is already rare."""


class ReceiptRepository:
    """Adds receipts (never changes one) and lists a participant's."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unused_reference(self, make: Callable[[], str] = new_reference) -> str:
        """A reference no receipt has yet (checked in the caller's transaction)."""
        for _ in range(ATTEMPTS):
            reference = make()
            if await self.by_reference(reference) is None:
                return reference
        # The unique constraint would refuse a duplicate anyway; say why instead.
        raise RuntimeError(f"no unused receipt reference after {ATTEMPTS} attempts")

    def add(
        self,
        *,
        reference: str,
        participant_id: int,
        study_id: str,
        document: str,
        signature: str,
        now: datetime,
    ) -> ConsentReceipt:
        """Store a signed receipt in the caller's transaction."""
        receipt = ConsentReceipt(
            reference=reference,
            participant_id=participant_id,
            study_id=study_id,
            created_at=now,
            document=document,
            signature=signature,
        )
        self.session.add(receipt)
        return receipt

    async def by_reference(self, reference: str) -> ConsentReceipt | None:
        """The receipt with this reference, if any."""
        statement = select(ConsentReceipt).where(ConsentReceipt.reference == reference)
        return (await self.session.exec(statement)).first()

    async def of_participant(self, participant_id: int) -> Sequence[ConsentReceipt]:
        """A participant's receipts, newest first."""
        statement = (
            select(ConsentReceipt)
            .where(ConsentReceipt.participant_id == participant_id)
            .order_by(col(ConsentReceipt.created_at).desc(), col(ConsentReceipt.id).desc())
        )
        return (await self.session.exec(statement)).all()
