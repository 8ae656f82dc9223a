"""The one query behind a data pipeline's consent check: many references, one purpose.

Up to 100,000 references are answered by a single statement, with the references passed
as one parameter (a PostgreSQL array, a JSON text on SQLite) rather than as 100,000 bound
values, which neither database accepts. Only two columns come back, never ORM objects.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel.ext.asyncio.session import AsyncSession

# Served by the unique (study_id, reference) index of participant and the covering index
# ix_consent_state_status: no table row of consent_state is read.
_POSTGRESQL = text(
    """
    SELECT p.reference, s.status
    FROM unnest(:references) AS wanted(reference)
    JOIN participant AS p ON p.study_id = :study AND p.reference = wanted.reference
    LEFT JOIN consent_state AS s ON s.participant_id = p.id AND s.purpose_id = :purpose
    """
).bindparams(bindparam("references", type_=ARRAY(String)))

_SQLITE = text(
    """
    SELECT p.reference, s.status
    FROM json_each(:references) AS wanted
    JOIN participant AS p ON p.study_id = :study AND p.reference = wanted.value
    LEFT JOIN consent_state AS s ON s.participant_id = p.id AND s.purpose_id = :purpose
    """
)


class ConsentCheckRepository:
    """Statuses of many participants for one purpose, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def statuses(
        self, study_id: str, purpose_id: str, references: Sequence[str]
    ) -> dict[str, str | None]:
        """Reference -> status for those of ``references`` that are participants of
        ``study_id``; ``None`` when they never answered for ``purpose_id``.

        ``references`` must hold no duplicates (each found one comes back once).
        """
        if not references:
            return {}
        connection = await self.session.connection()
        # In order, consecutive probes of the index share its pages (SQLite walks the list
        # as given): about twice as fast on a large study as a random order.
        ordered = sorted(references)
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            # One big statement, run once: compiling it (JIT) costs more than it saves, and
            # the join's hash table must fit in memory, not spill to disk in batches.
            await connection.execute(text("SET LOCAL jit = off"))
            await connection.execute(text("SET LOCAL work_mem = '64MB'"))
        statement = _POSTGRESQL if postgresql else _SQLITE
        wanted: object = ordered if postgresql else json.dumps(ordered)
        result = await connection.execute(
            statement, {"references": wanted, "study": study_id, "purpose": purpose_id}
        )
        return {row[0]: row[1] for row in result}
