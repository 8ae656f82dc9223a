"""Messages that may or may not have gone: found after a crash, never resent, listed for staff.

A message is "sending" from the moment a dispatcher claims it until that dispatch
round records what the gateway said. If the process dies in between, nobody comes
back for it: the gateway may have sent it or not. Sending it again could text
someone twice about their consent, which is worse than a missing message the study
team can follow up, so such a row becomes "unknown" and stays there.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from consentbot.services.clock import Clock
from consentbot.store.database import Database
from consentbot.store.outbox import OutboxRepository, UnknownMessage

log = structlog.get_logger(__name__)

LONGEST_SEND = timedelta(seconds=4 * 30 + 3 * 30)
"""The longest one gateway call can take: Twilio's defaults are 4 tries of at most 30 s
with at most 30 s between them (Kannel: one 30 s call; the console: none)."""

STUCK_AFTER = 10 * LONGEST_SEND
"""When a row still "sending" is taken to be stuck (35 minutes).

A round records its outcomes after all its sends, and one number's messages go one
after another, so a row can wait a few sends long; ten of the slowest is far past
any real round. Even then nothing is lost: a round that does come back records its
real outcome over "unknown". The mark only stays when no dispatcher returns: a crash.
"""

STUCK_CHECK_EVERY = timedelta(minutes=1)
"""How often the dispatcher looks (a read on the status index; it writes only if it finds some)."""


async def mark_stuck(db: Database, clock: Clock, stuck_after: timedelta = STUCK_AFTER) -> int:
    """Mark every message "sending" since before ``now - stuck_after`` as "unknown"; say how many."""
    claimed_before = clock() - stuck_after
    async with db.read() as session:
        if not await OutboxRepository(session).any_stuck(claimed_before):
            return 0
    async with db.transaction() as session:
        stuck = await OutboxRepository(session).mark_stuck(claimed_before)
    for message in stuck:
        log.warning(
            "outbox.unknown",
            message=message.id,
            reference=message.reference,
            kind=message.kind,
            claimed_at=message.claimed_at.isoformat() if message.claimed_at else None,
            note="may or may not have been sent; not resent (consentbot outbox unknown)",
        )
    return len(stuck)


async def unknown_messages(db: Database) -> list[UnknownMessage]:
    """Every message in "unknown", oldest first: id, reference, kind, study, participant, times."""
    async with db.read() as session:
        return await OutboxRepository(session).unknown()
