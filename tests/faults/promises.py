"""The service's promises, checked against what it stored and what Twilio received."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from consentbot.domain.outbox import OutboxStatus
from consentbot.store.tables import OutboxMessage
from tests.faults.records import Records
from tests.faults.traffic import Script, Webhook
from tests.support.twilio_fake import Accepted, FakeTwilio

UNSETTLED = (OutboxStatus.SENDING, OutboxStatus.UNKNOWN)
"""Handed to Twilio by a process that died (or lost its database) before recording how it went."""


async def wait_until_sent(records: Records, seconds: float = 30) -> None:
    """Poll until the outbox holds nothing ``pending`` (the service sends in the background)."""
    deadline = time.monotonic() + seconds
    while waiting := await records.waiting():
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(waiting)} messages still pending after {seconds} s")
        await asyncio.sleep(0.05)


async def assert_promises_kept(
    records: Records, patients: list[Script], webhooks: list[Webhook], twilio: FakeTwilio
) -> None:
    """Every webhook handled once, each ledger as its script says, each message sent at most
    once (and every message marked sent really went), nothing left pending, chains intact."""
    handled = Counter(await records.inbound_message_ids())
    assert handled == Counter(hook.sid for hook in webhooks), "not every MessageSid handled once"
    for script in patients:
        assert await records.transitions(script.phone) == script.transitions(), script.phone
        rows = await records.outbox(script.phone)
        assert rows, f"{script.phone} was never answered"
        statuses = Counter(row.status for row in rows)
        assert set(statuses) <= {OutboxStatus.SENT, *UNSETTLED}, (script.phone, statuses)
        accepted = [message for message in twilio.accepted if message.to == script.phone]
        assert_each_sent_at_most_once(script.phone, rows, accepted)
    assert await records.ledger_findings() == []


def assert_each_sent_at_most_once(
    phone: str, rows: list[OutboxMessage], accepted: list[Accepted]
) -> None:
    """Pair what Twilio took with outbox rows: a row marked sent with the message Twilio
    answered with its sid; anything else Twilio took with a different row left unsettled.
    A message sent twice would leave one of Twilio's copies without a row."""
    taken = {message.sid: message for message in accepted}
    for row in rows:
        if row.status == OutboxStatus.SENT:
            message = taken.pop(row.provider_id or "", None)
            assert message is not None, f"{phone}: outbox {row.id} is sent, Twilio never took it"
            assert message.body == row.body, f"{phone}: outbox {row.id} differs from what went"
    unpaired = Counter(message.body for message in taken.values())
    unsettled = Counter(row.body for row in rows if row.status in UNSETTLED)
    assert unpaired <= unsettled, f"{phone}: Twilio took a message more often than it was queued"
