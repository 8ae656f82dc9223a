"""Participants with given statuses, written straight into the tables.

For read-only answers (consent check, FHIR export) whose subject is many participants in
every status: walking each through SMS would test the conversation again, not the answer.
The statuses, and the permitted purposes kept beside them, are the ones the pipeline
writes; nothing here goes through it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import datetime

from aiohttp import web

from consentbot import keys
from consentbot.domain import permitted
from consentbot.domain.status import ConsentStatus
from consentbot.store.tables import ConsentState, Contact, Participant

_numbers = itertools.count(1)


async def seed_participant(
    app: web.Application,
    study: str,
    reference: str,
    statuses: Mapping[str, ConsentStatus],
    *,
    at: datetime,
    content_version: int = 1,
    erased: bool = False,
) -> int:
    """Add ``reference`` to ``study`` with ``statuses`` per purpose (others never answered)."""
    n = next(_numbers)
    async with app[keys.DATABASE].transaction() as session:
        contact = Contact(phone_hash=f"seed-{n:059d}", phone_encrypted="seed", created_at=at)
        session.add(contact)
        await session.flush()
        assert contact.id is not None
        participant = Participant(
            study_id=study,
            reference=reference,
            contact_id=contact.id,
            language="en",
            content_version=content_version,
            created_at=at,
            updated_at=at,
            erased_at=at if erased else None,
            permitted_purposes=permitted.from_statuses({p: s.value for p, s in statuses.items()}),
        )
        session.add(participant)
        await session.flush()
        assert participant.id is not None
        for purpose, status in statuses.items():
            if status is ConsentStatus.NONE:
                continue
            session.add(
                ConsentState(
                    participant_id=participant.id,
                    purpose_id=purpose,
                    status=status.value,
                    since=at,
                    content_version=content_version,
                    language="en",
                    withdrawal_level="no-further-use" if status is ConsentStatus.WITHDRAWN else None,
                )
            )
        return participant.id
