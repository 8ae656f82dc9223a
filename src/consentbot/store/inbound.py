"""Inbound message ids already handled, so a gateway's retry changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.direct_sql import execute
from consentbot.store.tables import InboundMessage


class InboundRepository:
    """Remember gateway message ids."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(
        self, gateway: str, gateway_message_id: str, contact_id: int | None, now: datetime
    ) -> bool:
        """Record the id; False if it was handled before.

        One statement: an insert that does nothing when the id is there already. The
        caller holds the sender's contact lock, so of two copies delivered at once (to
        the same process or to two workers) the second finds the first's row. Should the
        copies hold different locks (two rows for one number during a key rotation), the
        unique constraint decides: the later insert waits for the earlier transaction
        and, once that commits, does nothing either.
        """
        dialect = self.session.get_bind().dialect.name
        values = {
            "gateway": gateway,
            "gateway_message_id": gateway_message_id,
            "contact_id": contact_id,
            "received_at": now,
        }
        return bool((await execute(self.session, _FIRST_TIME[dialect], values)).rows)


_inbound: Table = InboundMessage.__table__  # type: ignore[attr-defined]


def _first_time(dialect: Any) -> Any:
    # On the table, not the model: an insert of the model goes through the ORM's bulk
    # insert path, which costs about twice what SQLite takes to run it.
    return (
        dialect.insert(_inbound)
        .values(
            gateway=bindparam("gateway"),
            gateway_message_id=bindparam("gateway_message_id"),
            contact_id=bindparam("contact_id"),
            received_at=bindparam("received_at"),
        )
        .on_conflict_do_nothing(index_elements=["gateway", "gateway_message_id"])
        .returning(_inbound.c.id)
    )


# Built once per dialect: every turn runs it, and building it costs more than running it.
_FIRST_TIME = {"sqlite": _first_time(sqlite), "postgresql": _first_time(postgresql)}
