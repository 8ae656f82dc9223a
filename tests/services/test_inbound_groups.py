"""Inbound turns of different people arriving together share one SQLite transaction.

Through the real Twilio webhook: turns queued behind a busy writer run as one group,
each answered as if alone; a turn that fails in a group leaves no trace and spoils no
other turn; a gateway's retry of that message is then handled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from consentbot import keys
from consentbot.store.database import Database
from consentbot.store.group_commit import GroupCommit
from tests.conftest import AppClient, settle
from tests.faults.records import Records
from tests.operations.scrape import scrape, value
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

# Group commit is SQLite's: PostgreSQL runs each turn in a transaction of its own.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

NUMBERS = [f"+447400900{n:03d}" for n in range(601, 613)]


async def queued_behind_the_writer(
    db: Database, group: GroupCommit, sends: list[Callable[[], Coroutine[Any, Any, str]]]
) -> list[str]:
    """Send every message while another transaction holds the writer, so all queue."""
    async with db.transaction():
        tasks = [asyncio.create_task(send()) for send in sends]
        async with asyncio.timeout(10):
            while group.waiting < len(sends):  # noqa: ASYNC110 (nothing to wait on but the queue)
                await asyncio.sleep(0.01)
    return list(await asyncio.gather(*tasks))


def sender(phone: TwilioPhone) -> Callable[[], Coroutine[Any, Any, str]]:
    return lambda: phone.send("JOINTS")


def sqlite_group(client: AppClient) -> tuple[Database, GroupCommit]:
    db = client.app[keys.DATABASE]
    assert db.group is not None
    return db, db.group


async def test_turns_queued_together_run_in_one_transaction(
    client: AppClient, fake_twilio: FakeTwilio
) -> None:
    db, group = sqlite_group(client)
    phones = [TwilioPhone(client, fake_twilio, number) for number in NUMBERS]
    groups, callers = group.groups, group.callers
    before = await scrape(client)
    await queued_behind_the_writer(db, group, [sender(phone) for phone in phones])
    assert (group.groups - groups, group.callers - callers) == (1, len(phones))
    # An operator sees the same on /metrics: one transaction committed, with all the turns.
    after = await scrape(client)
    shared = "consentbot_group_commit_callers"
    for name, more in ((f"{shared}_count", 1), (f"{shared}_sum", len(phones))):
        counted = value(after, name, outcome="committed") - value(before, name, outcome="committed")
        assert counted == more, name
    assert value(after, f"{shared}_count", outcome="failed") == 0

    await settle(client.app)
    for phone in phones:
        (invitation,) = phone.new_messages()
        assert "Reply MORE to read more" in invitation
    await asyncio.gather(*(phone.send("YES") for phone in phones))
    await settle(client.app)
    for phone in phones:
        assert "Question 1 of 5" in phone.text()
    assert await Records.of(client.app).ledger_findings() == []


async def test_a_turn_that_fails_in_a_group_leaves_nothing_and_spoils_nothing(
    client: AppClient, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, group = sqlite_group(client)
    records = Records.of(client.app)
    unlucky, *others = [TwilioPhone(client, fake_twilio, number) for number in NUMBERS[:4]]
    pipeline = client.app[keys.INBOUND].pipeline
    real_run = pipeline.run
    failing_sid = "SM" + "f" * 32

    async def fails_after_its_writes(*args: object, **kwargs: object) -> object:
        outcome = await real_run(*args, **kwargs)  # type: ignore[arg-type]
        if getattr(args[1], "message_key", None) == ("twilio", failing_sid):
            raise RuntimeError("the disk hiccupped")
        return outcome

    monkeypatch.setattr(pipeline, "run", fails_after_its_writes)

    async def unlucky_send() -> str:
        with pytest.raises(AssertionError, match="500"):
            await unlucky.send("JOINTS", sid=failing_sid)
        return failing_sid

    # The same number's next message, in the same group, finds no trace of the failed one.
    await queued_behind_the_writer(
        db, group, [unlucky_send, *(sender(phone) for phone in [*others, unlucky])]
    )
    await settle(client.app)
    assert failing_sid not in await records.inbound_message_ids()
    assert len(await records.outbox(unlucky.number)) == 1  # the second message's invitation
    for phone in [*others, unlucky]:
        (text,) = phone.new_messages()
        assert "Reply MORE to read more" in text
    assert await records.transitions(unlucky.number) == []

    monkeypatch.undo()
    await unlucky.send("JOINTS", sid=failing_sid)  # Twilio retries the webhook it got a 500 for
    await settle(client.app)
    assert "Reply MORE to read more" in unlucky.text()
    assert await records.ledger_findings() == []
