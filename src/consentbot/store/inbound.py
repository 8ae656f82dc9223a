"""Inbound message ids already handled, so a gateway's retry changes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.tables import InboundMessage


class InboundRepository:
    """Remember gateway message ids."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(
        self, gateway: str, gateway_message_id: str, contact_id: int | None, now: datetime
    ) -> bool:
        """Record the id; False if it was handled before.

        The caller holds the sender's contact lock, so a duplicate delivered twice
        at once is seen here by the second; the unique constraint is the backstop.
        """
        statement = select(InboundMessage.id).where(
            InboundMessage.gateway == gateway,
            InboundMessage.gateway_message_id == gateway_message_id,
        )
        if (await self.session.exec(statement)).first() is not None:
            return False
        self.session.add(
            InboundMessage(
                gateway=gateway,
                gateway_message_id=gateway_message_id,
                contact_id=contact_id,
                received_at=now,
            )
        )
        await self.session.flush()
        return True
