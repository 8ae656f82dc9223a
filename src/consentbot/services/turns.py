"""Apply one :class:`Turn` inside the pipeline's transaction: ledger, state, timers, replies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.conversation.outcome import (
    CancelTimers,
    RequestCallback,
    RevokeLinks,
    ScheduleTimer,
    SetLanguage,
    StartMessages,
    StopMessages,
    Turn,
)
from consentbot.conversation.state import Layer
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Provenance
from consentbot.domain.status import ConsentStatus
from consentbot.domain.stopping import StopSource
from consentbot.domain.timers import MESSAGE_TIMERS
from consentbot.domain.transitions import ConsentAction
from consentbot.services.participation import Participation
from consentbot.services.receipts import issue_receipt
from consentbot.store.callbacks import CallbackRepository
from consentbot.store.contacts import ContactRepository
from consentbot.store.crypto import PhoneVault
from consentbot.store.ledger import LedgerRepository, NewEvent
from consentbot.store.links import LinkRepository
from consentbot.store.outbox import OutboxRepository, PlannedMessage
from consentbot.store.participants import ParticipantRepository
from consentbot.store.tables import ConsentEvent, Contact
from consentbot.store.timers import TimerRepository

READING = frozenset({Layer.TOPIC, Layer.DETAIL})
"""Layers at which a turn shows the person one of the study's topics."""


async def apply_turn(
    session: AsyncSession,
    contacts: ContactRepository,
    who: Participation,
    turn: Turn,
    *,
    provenance: Provenance,
    now: datetime,
    number_participants: Sequence[int],
    receipt_key: Callable[[], Ed25519PrivateKey],
    public_url: str | None,
) -> str | None:
    """Write what ``turn`` decided about consent and state, in the caller's transaction.

    Consent changes are chained into the ledger with the content version and the
    language the person was reading (before any language switch in the same turn), with
    the channel, the actor and how the person was identified. STOP is about the number,
    so its effects reach every one of ``number_participants`` (the number's studies).
    A turn that gave, changed or withdrew consent gets a receipt signed with the key
    ``receipt_key`` gives, written with its events: its reference is returned (else None).
    """
    changing = who.state.changing
    # Set before the ledger's changes: a statement below that flushes the session (a timer
    # cancelled) then writes the participant's row once, with its new ledger head, not
    # once for the head and again for the rest at the end.
    participant = who.participant
    participant.conversation = turn.state.to_json()
    if participant.first_read_at is None and turn.state.layer in READING:
        participant.first_read_at = now  # the console's funnel: "read" (opened a topic)
    participant.content_version = who.study.version
    participant.updated_at = now
    events = await record_changes(session, who, turn, provenance=provenance, now=now)
    receipt = await issue_receipt(
        session,
        who,
        turn,
        events,
        changing=changing,
        key=receipt_key,
        public_url=public_url,
        now=now,
    )
    await apply_effects(
        session,
        contacts,
        who,
        turn,
        provenance=provenance,
        now=now,
        number_participants=number_participants,
    )
    await ParticipantRepository(session).save(who.participant, now)
    return receipt


async def record_changes(
    session: AsyncSession, who: Participation, turn: Turn, *, provenance: Provenance, now: datetime
) -> list[ConsentEvent]:
    """One ledger event per consent change, bound to the exact text the person saw."""
    study, participant = who.study, who.participant
    ledger = LedgerRepository(session)
    text = study.text(participant.language)
    rules = study.cooling_off
    events = []
    for change in turn.changes:
        pending = change.to_status is ConsentStatus.PENDING
        event = await ledger.append(
            participant,
            NewEvent(
                purpose_id=change.purpose,
                action=change.action.value,
                from_status=change.from_status.value,
                to_status=change.to_status.value,
                withdrawal_level=change.withdrawal_level.value if change.withdrawal_level else None,
                content_version=study.version,
                content_digest=text.digest,
                language=text.language,
                channel=provenance.channel,
                actor=provenance.actor,
                auth=provenance.auth,
                assisted_by=provenance.assisted_by,
                occurred_at=now,
                pending_since=now if pending else None,
                confirm_from=rules.opens_at(now) if pending else None,
                confirm_by=rules.expires_at(now) if pending else None,
                confirmed_via=(
                    provenance.confirmed_via.value
                    if provenance.confirmed_via is not None
                    and change.action is ConsentAction.CONFIRM
                    else None
                ),
            ),
        )
        events.append(event)
    return events


async def apply_effects(
    session: AsyncSession,
    contacts: ContactRepository,
    who: Participation,
    turn: Turn,
    *,
    provenance: Provenance,
    now: datetime,
    number_participants: Sequence[int],
) -> None:
    """Language, STOP/START, links and timers, as the turn decided."""
    apply_number_effects(contacts, who.contact, turn, provenance=provenance, now=now)
    timers = TimerRepository(session)
    links = LinkRepository(session)
    for effect in turn.effects:
        if isinstance(effect, SetLanguage):
            who.participant.language = effect.language
        elif isinstance(effect, StopMessages):
            for participant_id in number_participants:
                await timers.cancel(participant_id, MESSAGE_TIMERS, now)
            await links.revoke(number_participants, now)
        elif isinstance(effect, RevokeLinks):
            await links.revoke([who.participant_id], now)
        elif isinstance(effect, ScheduleTimer):
            await timers.schedule(who.participant_id, effect.kind, effect.due_at, now)
        elif isinstance(effect, CancelTimers):
            await timers.cancel(who.participant_id, effect.kinds, now)
        elif isinstance(effect, RequestCallback):
            # The row commits with the acknowledgement, or neither does.
            await CallbackRepository(session).request(who.study.id, who.participant_id, now)


def apply_number_effects(
    contacts: ContactRepository,
    contact: Contact,
    turn: Turn,
    *,
    provenance: Provenance,
    now: datetime,
) -> None:
    """STOP and START: about the number, whichever study (if any) the turn was for.

    The engine only starts messages where ``domain.stopping.can_lift_stop`` allows.
    """
    for effect in turn.effects:
        if isinstance(effect, StopMessages):
            source = StopSource.SMS if provenance.channel.is_sms else StopSource.WEB
            contacts.stop(contact, source, now)
        elif isinstance(effect, StartMessages):
            contacts.start(contact)


async def queue_sms_replies(
    session: AsyncSession,
    turn: Turn,
    *,
    contact_id: int,
    participant_id: int | None,
    kind: OutboxKind,
    now: datetime,
    max_segments: int,
    secret: str | None = None,
    vault: PhoneVault | None = None,
    planned: list[PlannedMessage] | None = None,
) -> None:
    """Put a turn's replies in the SMS outbox, due now.

    With ``planned``, the rows are added to that list for the caller to insert with a
    group's others (:meth:`OutboxRepository.add_all`), instead of inserted now.

    Quiet hours are the dispatcher's business: it holds the kinds of message we
    start until they end, whenever it would otherwise send them. ``secret`` (a
    one-time code or personal link in the replies) is stored only encrypted with
    ``vault``: see :meth:`OutboxRepository.add`.
    """
    outbox = OutboxRepository(session, vault)
    rows = [
        row
        for always, body in joined_replies(turn)
        for row in outbox.plan(
            contact_id=contact_id,
            participant_id=participant_id,
            kind=kind,
            body=body,
            always=always,
            send_after=now,
            now=now,
            max_segments=max_segments,
            secret=secret,
        )
    ]
    if planned is not None:
        planned.extend(rows)
    else:
        await outbox.add_all(rows)


def joined_replies(turn: Turn) -> list[tuple[bool, str]]:
    """A turn's replies as few messages as possible: one text per run of the same ``always``.

    The outbox splits a long text again at paragraph breaks, so joining costs nothing
    and spares people two alerts for one answer.
    """
    joined: list[tuple[bool, str]] = []
    for reply in turn.replies:
        if joined and joined[-1][0] == reply.always:
            joined[-1] = (reply.always, f"{joined[-1][1]}\n\n{reply.text}")
        else:
            joined.append((reply.always, reply.text))
    return joined
