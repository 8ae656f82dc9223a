"""Participants with consent in known states, and a research system recording accesses."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

from consentbot.services.clock import ManualClock
from tests.conftest import AppClient
from tests.support.journey import STUDY, ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

ACCESSES = f"/api/v1/studies/{STUDY}/accesses"
ANSWERS = ["YES", "YES", "YES", "YES", "NO", "NO"]
"""Yes to records-research, social-care-linkage and commercial-partner; no to recontact and updates."""


def body(participants: list[str], **changes: Any) -> dict[str, Any]:
    """A valid request: the university reads the records of ``participants``."""
    return {
        "purpose": "records-research",
        "accessor": {"name": "Dr A Shah", "organisation": "University of Leeds", "kind": "university"},
        "dataset": "GP records 2020-2025",
        "reason": "Arthritis outcomes study",
        "participants": participants,
    } | changes


async def joined(
    client: AppClient, twilio: FakeTwilio, research: ResearchSystem, number: str, reference: str, language: str = "en"
) -> TwilioPhone:
    """Invited, and answered ``ANSWERS`` (nothing confirmed yet)."""
    phone = TwilioPhone(client, twilio, number)
    await research.invite(number, reference, language)
    for answer in ANSWERS:
        await phone.send(answer)
    phone.text()
    return phone


async def active_people(
    client: AppClient, twilio: FakeTwilio, clock: ManualClock, research: ResearchSystem, count: int, language: str = "en"
) -> list[TwilioPhone]:
    """``count`` participants P-1... whose first three purposes are active."""
    phones = [
        await joined(client, twilio, research, f"+447400900{n:03d}", f"P-{n}", language) for n in range(1, count + 1)
    ]
    clock.advance(timedelta(days=1))
    for phone in phones:
        await phone.send("CONFIRM")
        phone.text()
    return phones


async def record(
    client: AppClient, research: ResearchSystem, request: Any, key: str | None = None
) -> tuple[int, Any]:
    headers = research.headers | {"Content-Type": "application/json"} | ({"Idempotency-Key": key} if key else {})
    # A stream: the client warns about sending a big body (100,000 references) as bytes.
    response = await client.post(ACCESSES, data=io.BytesIO(json.dumps(request).encode()), headers=headers)
    return response.status, await response.json()
