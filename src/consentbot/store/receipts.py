"""Signed consent receipts: written with the turn's ledger events, read by the person and
the study (services/receipts.py builds them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert
from sqlalchemy import select as sql_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.receipt_reference import new_reference
from consentbot.store.direct_sql import execute
from consentbot.store.loaded_rows import table_of
from consentbot.store.tables import ConsentReceipt

ATTEMPTS = 10
"""New references tried before giving up: with 2^40 of them, one collision is already rare."""


_receipts = table_of(ConsentReceipt)
# A turn's receipt is checked and written on the connection, not through the session: a
# session query would first flush the turn's rows (which the turn writes itself at its
# end), and no receipt is ever a row the session tracks while a turn runs.
_TAKEN = sql_select(_receipts.c.id).where(_receipts.c.reference == bindparam("reference"))
_ADD = insert(_receipts).values(
    reference=bindparam("reference"),
    participant_id=bindparam("participant"),
    study_id=bindparam("study"),
    created_at=bindparam("now"),
    document=bindparam("document"),
    signature=bindparam("signature"),
)


class ReceiptRepository:
    """Adds receipts (never changes one) and lists a participant's."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unused_reference(self, make: Callable[[], str] = new_reference) -> str:
        """A reference no receipt has yet (checked in the caller's transaction)."""
        for _ in range(ATTEMPTS):
            reference = make()
            if not (await execute(self.session, _TAKEN, {"reference": reference})).rows:
                return reference
        # The unique constraint would refuse a duplicate anyway; say why instead.
        raise RuntimeError(f"no unused receipt reference after {ATTEMPTS} attempts")

    async def add(
        self,
        *,
        reference: str,
        participant_id: int,
        study_id: str,
        document: str,
        signature: str,
        now: datetime,
    ) -> None:
        """Store a signed receipt in the caller's transaction."""
        values = {
            "reference": reference,
            "participant": participant_id,
            "study": study_id,
            "now": now,
            "document": document,
            "signature": signature,
        }
        await execute(self.session, _ADD, values)

    async def of_participant(self, participant_id: int) -> Sequence[ConsentReceipt]:
        """A participant's receipts, newest first."""
        statement = (
            select(ConsentReceipt)
            .where(ConsentReceipt.participant_id == participant_id)
            .order_by(col(ConsentReceipt.created_at).desc(), col(ConsentReceipt.id).desc())
        )
        return (await self.session.exec(statement)).all()
