"""Outbox secrets: replaced by a marker in the part that holds them, sealed, erased once settled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.outbox import SETTLED, OutboxKind, OutboxStatus
from consentbot.domain.sms_segments import segment_count
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database
from consentbot.store.outbox import SECRET_MARKER, OutboxRepository, reveal, set_status
from consentbot.store.tables import Contact, OutboxMessage
from tests.conftest import SECRET, START

LINK = "https://consent.example.org/i/Zt0Jb2-qWc8sX1d_Fv9kLmN3pR5tV7xY"
VAULT = PhoneVault(SECRET)


@dataclass
class Queue:
    """An outbox repository in an open transaction, for one contact."""

    repository: OutboxRepository
    contact_id: int

    @property
    def session(self) -> AsyncSession:
        return self.repository.session

    async def add(self, body: str, max_segments: int, secret: str | None) -> list[OutboxMessage]:
        planned = self.repository.plan(
            contact_id=self.contact_id,
            participant_id=None,
            kind=OutboxKind.INVITATION,
            body=body,
            always=False,
            send_after=START,
            now=START,
            max_segments=max_segments,
            secret=secret,
        )
        ids = await self.repository.add(planned)
        stored = await self.repository.by_ids(ids)
        return [stored[message_id] for message_id in ids]

    async def count(self) -> int:
        return len(await self.repository.for_contact(self.contact_id))


@pytest.fixture
async def outbox(database_url: str) -> AsyncIterator[Queue]:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            contact = Contact(phone_hash="h", phone_encrypted="e", created_at=START)
            session.add(contact)
            await session.flush()
            assert contact.id is not None
            yield Queue(OutboxRepository(session, VAULT), contact.id)
            await session.rollback()
    finally:
        await db.dispose()


async def test_the_part_holding_the_secret_stores_a_marker_and_counts_the_real_text(
    outbox: Queue,
) -> None:
    first = "Please read about the study. " * 8
    second = "A" * 100 + " " + LINK
    messages = await outbox.add(f"{first.strip()}\n\n{second}", 2, LINK)
    assert len(messages) == 2
    without, holder = messages
    assert without.secret_encrypted is None
    assert SECRET_MARKER not in without.body
    assert holder.body == second.replace(LINK, SECRET_MARKER)
    assert holder.secret_encrypted is not None
    assert LINK not in holder.secret_encrypted
    # Two segments with the link, one with the marker: the real text is what is counted.
    assert holder.segments == segment_count(second) == 2
    assert segment_count(holder.body) == 1
    assert reveal(holder, VAULT) == second
    assert reveal(without, VAULT) == without.body


async def test_a_secret_that_would_be_split_or_cannot_be_marked_is_refused(
    outbox: Queue,
) -> None:
    too_long = "x" * 200  # longer than one message: it would be cut in two
    with pytest.raises(ValueError, match="split between two messages"):
        await outbox.add(f"Your code is {too_long}", 1, too_long)
    with pytest.raises(ValueError, match="already holds"):
        await outbox.add(f"Write {SECRET_MARKER} to see {LINK}", 6, LINK)
    with pytest.raises(ValueError, match="needs the vault"):
        OutboxRepository(outbox.session).plan(
            contact_id=outbox.contact_id, participant_id=None, kind=OutboxKind.VERIFICATION, body="code 123456",
            always=False, send_after=START, now=START, max_segments=1, secret="123456",
        )  # fmt: skip
    assert await outbox.count() == 0, "nothing may be queued by a refused call"


async def test_text_without_the_secret_is_stored_as_it_is(outbox: Queue) -> None:
    (message,) = await outbox.add("No link in this one.", 6, LINK)
    assert message.body == "No link in this one."
    assert message.secret_encrypted is None


@pytest.mark.parametrize("status", list(OutboxStatus))
def test_a_settled_message_loses_its_secret(status: OutboxStatus) -> None:
    message = OutboxMessage(
        contact_id=1, reference="r", kind=OutboxKind.VERIFICATION, body=f"code {SECRET_MARKER}",
        secret_encrypted=VAULT.seal_secret("123456", "r"), send_after=START, created_at=START,
    )  # fmt: skip
    set_status(message, status)
    assert message.status is status
    assert (message.secret_encrypted is None) == (status in SETTLED)
    assert status in SETTLED or status in (OutboxStatus.PENDING, OutboxStatus.SENDING)
