"""The one turn pipeline: every way a turn starts goes through :meth:`TurnPipeline.run`.

SMS on each gateway, the web page, timers, invitations and language changes: whatever
starts a turn, the pipeline, inside the caller's transaction,

1. locks the number's contact row, then loads the participant(s): one number's turns
   never interleave, on one process or several (a web page's session row, where there is
   one, is written before the contact is locked, everywhere, so the two never deadlock);
2. reads the text once (:meth:`Lexicon.read`), in every language the person uses;
3. decides the study (SMS only: :mod:`consentbot.conversation.routing`);
4. runs the pure engine and applies its turn (ledger, projection, timers, links);
5. records the channel, the actor and how the person was identified on every event;
6. delivers the replies where they belong: the SMS outbox or the web page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import structlog
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.model import Study
from consentbot.conversation.engine import Context, choose_language, invite, respond
from consentbot.conversation.erasure import erase
from consentbot.conversation.intents import Intent
from consentbot.conversation.outcome import (
    Reply,
    SetLanguage,
    Turn,
)
from consentbot.conversation.proactive import on_timer, respond_to_stranger
from consentbot.conversation.receipt_messages import receipt_line, with_receipt
from consentbot.conversation.routing import (
    AskWhichStudy,
    Erased,
    EveryStudy,
    Join,
    NotJoined,
    Route,
    Stranger,
    ToParticipant,
    route,
)
from consentbot.conversation.state import ConversationState
from consentbot.conversation.study_changes import study_changed
from consentbot.conversation.vocabulary import Command
from consentbot.domain.outbox import OutboxKind
from consentbot.domain.provenance import Provenance
from consentbot.domain.stopping import can_lift_stop
from consentbot.domain.timers import MESSAGE_TIMERS, TimerKind
from consentbot.metrics import TurnStage, TurnTimer
from consentbot.services.deps import ServiceDeps
from consentbot.services.participation import Participation
from consentbot.services.turns import (
    apply_number_effects,
    apply_turn,
    joined_replies,
    queue_sms_replies,
)
from consentbot.store.accesses import AccessRepository, seen_by_participant
from consentbot.store.callbacks import CallbackRepository
from consentbot.store.contacts import ContactRepository
from consentbot.store.inbound import InboundRepository
from consentbot.store.links import LinkRepository
from consentbot.store.loaded_rows import keep
from consentbot.store.outbox import OutboxRepository, PlannedMessage
from consentbot.store.participants import ParticipantRepository, generate_reference
from consentbot.store.row_writes import write_changes
from consentbot.store.tables import Contact, WebSession
from consentbot.store.timers import ClaimedTimer, TimerRepository
from consentbot.store.web_sessions import WebSessionRepository

log = structlog.get_logger(__name__)


# What starts a turn.
@dataclass(frozen=True, slots=True)
class Said:
    """The person sent or typed ``text``.

    ``seen_question`` is the question they were answering, where the channel knows it
    (a web form); None where it cannot (SMS).
    """

    text: str
    seen_question: str | None = None


@dataclass(frozen=True, slots=True)
class TimerDue:
    """A timer fell due (claimed inside the pipeline, after the contact's lock)."""

    timer_id: int
    claimed: ClaimedTimer | None = None
    """The timer, where the caller has claimed it already, after the contact's lock
    (a group of due timers: :meth:`TurnPipeline.run_timers`)."""


@dataclass(frozen=True, slots=True)
class Invited:
    """A research system or staff invited the participant: send the study's first message."""


@dataclass(frozen=True, slots=True)
class LanguageChosen:
    """The person picked a language on a page."""

    language: str


@dataclass(frozen=True, slots=True)
class ErasureRequested:
    """The study team serves the person's verified request to erase their data."""


@dataclass(frozen=True, slots=True)
class StudyChanged:
    """A newly published version changed purposes the person said yes to.

    ``study`` is that version: the turn is decided and recorded with it, even before this
    process serves it (the change is applied before the service swaps the text in).
    """

    study: Study


@dataclass(frozen=True, slots=True)
class ConfirmationRecorded:
    """A worker records that the person confirmed, in person or by a phone call.

    The turn is CONFIRM's, decided at the moment the person confirmed (the ``now`` the
    caller passes), so the same cooling-off rule and transitions apply; the provenance
    carries ``confirmed_via``.
    """


Stimulus = (
    Said
    | TimerDue
    | Invited
    | LanguageChosen
    | ErasureRequested
    | StudyChanged
    | ConfirmationRecorded
)


# Whose turn it is.
@dataclass(frozen=True, slots=True)
class FromNumber:
    """An SMS from this number; the pipeline routes it to one of the number's studies.

    ``message_key`` (gateway, gateway message id) makes handling idempotent.
    """

    e164: str
    message_key: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ForParticipant:
    """A known participant: a linked web page, a timer, an invitation."""

    participant_id: int


@dataclass(frozen=True, slots=True)
class Anonymous:
    """A web visitor not yet linked to any number: they may read, never decide."""

    web: WebSession


Address = FromNumber | ForParticipant | Anonymous


# Where the replies go.
@dataclass(frozen=True, slots=True)
class BySms:
    """To the number's SMS outbox."""

    kind: OutboxKind = OutboxKind.REPLY


@dataclass(frozen=True, slots=True)
class ToPage:
    """To a web page's transcript."""

    web: WebSession


ReplyTo = BySms | ToPage

IDENTITY_COMMANDS = frozenset(
    {
        Command.YES,
        Command.NO,
        Command.CONFIRM,
        Command.CHOICES,
        Command.CHANGE,
        Command.WITHDRAW,
        Command.LATER,
        Command.STOP,
        Command.START,
        Command.CALL,
        Command.WHO,
    }
)
"""What an anonymous visitor cannot do before their number is checked: everything that
records, shows or schedules something for a person rather than for a reader."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """A number's contact, locked by this transaction, and every study it takes part in."""

    contact: Contact
    enrolled: list[Participation]


@dataclass(frozen=True, slots=True)
class Decided:
    """The turn decided for a participant (or, with ``who`` None, for the number)."""

    who: Participation | None
    turn: Turn
    secret: str | None = None
    """A personal link in the replies: the outbox keeps it only encrypted."""


@dataclass(slots=True)
class GroupWrites:
    """What a group of turns writes together once all have run (a round of reminders)."""

    messages: list[PlannedMessage] = field(default_factory=list)
    """Their SMS, in the order the turns queued them."""
    rows: list[SQLModel] = field(default_factory=list)
    """The contact and participant rows they changed (see :func:`write_changes`)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a turn did."""

    participant_id: int | None = None
    turn: Turn | None = None
    """None when nothing was done: a repeated gateway message, a timer already taken..."""
    needs_identity: bool = False
    """An anonymous visitor asked for something only a checked number may do."""
    sms_queued: bool = False
    duplicate: bool = False
    """A gateway's message id already handled: nothing was done again."""

    @property
    def label(self) -> str:
        """How the turn ended, as ``consentbot_turns`` counts it."""
        if self.duplicate:
            return "duplicate"
        if self.needs_identity:
            return "needs_identity"
        return "ignored" if self.turn is None else "handled"


_TRIGGERS: dict[type[object], str] = {
    Said: "message",
    TimerDue: "timer",
    Invited: "invitation",
    LanguageChosen: "language",
    ErasureRequested: "erasure",
    StudyChanged: "study_change",
    ConfirmationRecorded: "recorded_confirmation",
}
"""What started a turn, as a metric label."""


class TurnPipeline:
    """The consent service's single entry point for turns."""

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

    async def run(
        self,
        session: AsyncSession,
        address: Address,
        stimulus: Stimulus,
        provenance: Provenance,
        reply_to: ReplyTo,
        now: datetime,
    ) -> Outcome:
        """Run one turn inside the caller's transaction (see the module docstring).

        Counted in ``consentbot_turns`` by channel, trigger and outcome, its stages timed.
        """
        trigger = _TRIGGERS[type(stimulus)]
        with self.deps.metrics.turn(provenance.channel.value, trigger) as timer:
            outcome = await self._run(session, address, stimulus, provenance, reply_to, now, timer)
            timer.outcome = outcome.label
        return outcome

    async def _run(
        self,
        session: AsyncSession,
        address: Address,
        stimulus: Stimulus,
        provenance: Provenance,
        reply_to: ReplyTo,
        now: datetime,
        timer: TurnTimer,
    ) -> Outcome:
        if isinstance(address, Anonymous):
            return await self._anonymous(session, address.web, stimulus, now)
        contacts = ContactRepository(session, self.deps.vault)
        contact = await self._lock(session, contacts, address, now)
        if contact is None:
            return Outcome()
        assert contact.id is not None
        if isinstance(address, FromNumber) and address.message_key is not None:
            gateway, message_id = address.message_key
            inbound = InboundRepository(session)
            if not await inbound.first_time(gateway, message_id, contact.id, now):
                log.info("turn.duplicate", gateway=gateway, contact=contact.id)
                return Outcome(duplicate=True)
        enrolled = await self._enrolled(session, [contact])
        timer.lap(TurnStage.LOAD)
        loaded = Loaded(contact, enrolled[contact.id])
        return await self._turn(
            session, loaded, address, stimulus, provenance, reply_to, now, timer
        )

    async def run_timers(
        self,
        session: AsyncSession,
        due: Sequence[tuple[int, int, TimerKind]],
        provenance: Provenance,
        now: datetime,
    ) -> int:
        """Run due timers ``(id, participant, kind)`` of different participants together,
        inside the caller's transaction; return how many ran.

        The same turns as :meth:`run` with :class:`TimerDue`, loaded in a few queries for
        the whole group instead of a few per person. The contacts are locked first, in id
        order, with SKIP LOCKED: a timer whose contact another scheduler (or a turn in
        progress) holds is left for the next round, so several processes never run one
        timer twice nor wait on each other. A person's second due timer must see what the
        first did, so no participant may appear twice.
        """
        assert len({p for _, p, _ in due}) == len(due), "one timer per participant per group"
        timers = TimerRepository(session)
        held = await timers.lock_contacts(p for _, p, _ in due)
        claimed = await timers.claim_many([t for t, p, _ in due if p in held], now)
        contacts = list({c.id: c for c in held.values()}.values())
        enrolled = await self._enrolled(session, contacts)
        group = GroupWrites()
        ran = 0
        for timer_id, participant_id, kind in due:
            row = claimed.get(timer_id)
            if row is None:
                continue
            contact = held[participant_id]
            assert contact.id is not None
            outcome = await self._run_loaded(
                session,
                Loaded(contact, enrolled[contact.id]),
                ForParticipant(participant_id),
                TimerDue(timer_id, row),
                provenance,
                BySms(OutboxKind.for_timer(kind)),
                now,
                group,
            )
            ran += outcome.turn is not None
        # The rows the turns changed, a statement for each set of columns, and the group's
        # messages in one insert, in the order its turns queued them.
        await write_changes(session, *group.rows)
        await OutboxRepository(session).add_all(group.messages)
        return ran

    async def _run_loaded(
        self,
        session: AsyncSession,
        loaded: Loaded,
        address: FromNumber | ForParticipant,
        stimulus: Stimulus,
        provenance: Provenance,
        reply_to: ReplyTo,
        now: datetime,
        group: GroupWrites,
    ) -> Outcome:
        """Run one turn for a contact this transaction has locked and loaded already; its
        SMS and changed rows are added to ``group``, for the caller to write with its
        group's.

        Counted in ``consentbot_turns`` like :meth:`run`.
        """
        with self.deps.metrics.turn(provenance.channel.value, _TRIGGERS[type(stimulus)]) as timer:
            outcome = await self._turn(
                session, loaded, address, stimulus, provenance, reply_to, now, timer, group
            )
            timer.outcome = outcome.label
        return outcome

    async def _turn(
        self,
        session: AsyncSession,
        loaded: Loaded,
        address: FromNumber | ForParticipant,
        stimulus: Stimulus,
        provenance: Provenance,
        reply_to: ReplyTo,
        now: datetime,
        timer: TurnTimer,
        group: GroupWrites | None = None,
    ) -> Outcome:
        """Decide the turn, apply it and deliver its replies (SMS queued and changed rows
        written now, or added to ``group`` when given)."""
        contact, enrolled = loaded.contact, loaded.enrolled
        contacts = ContactRepository(session, self.deps.vault)
        can_start = can_lift_stop(contact.stopped_by, from_phone=provenance.channel.is_sms)
        if isinstance(address, ForParticipant):
            who = next((p for p in enrolled if p.participant_id == address.participant_id), None)
            if who is None:
                return Outcome()
            decided = await self._for_participant(session, who, stimulus, can_start, now)
        else:
            assert isinstance(stimulus, Said), "a number only ever says something"
            decided = await self._from_number(session, contact, enrolled, stimulus, can_start, now)
        timer.lap(TurnStage.DECIDE)
        if decided is None:
            return Outcome()
        who, turn = decided.who, decided.turn
        if who is not None:
            receipt = await apply_turn(
                session,
                contacts,
                who,
                turn,
                provenance=provenance,
                now=now,
                # A participant who joined in this turn is one of the number's studies too.
                number_participants=sorted(
                    {p.participant_id for p in enrolled} | {who.participant_id}
                ),
                receipt_key=self.deps.audit_key,
                public_url=self.deps.public_url,
            )
            if receipt is not None:
                # In the language the person reads from now on (the turn may have switched it).
                translator = self.deps.lexicon.translator(who.language)
                turn = with_receipt(turn, receipt_line(translator, receipt))
                decided = replace(decided, turn=turn)
        else:
            apply_number_effects(contacts, contact, turn, provenance=provenance, now=now)
        planned = None if group is None else group.messages
        queued = await self._deliver(session, contact, decided, reply_to, now, planned)
        # The turn's changes to the two rows, written by us rather than the session's flush.
        changed = [contact, *([who.participant] if who else [])]
        if group is None:
            await write_changes(session, *changed)
        else:
            group.rows.extend(changed)
        timer.lap(TurnStage.STORE)
        log.info(
            "turn.handled",
            channel=provenance.channel.value,
            auth=provenance.auth.value,
            study=who.study.id if who else None,
            participant=who.participant_id if who else None,
            changes=len(turn.changes),
            replies=len(turn.replies),
        )
        return Outcome(who.participant_id if who else None, turn, sms_queued=queued)

    # -- locking and loading ----------------------------------------------------------------

    async def _lock(
        self, session: AsyncSession, contacts: ContactRepository, address: Address, now: datetime
    ) -> Contact | None:
        """Lock the number's contact row first, whatever the turn; everything else after."""
        if isinstance(address, FromNumber):
            return await contacts.find_or_create(address.e164, now)
        assert isinstance(address, ForParticipant)
        contact_id = await ParticipantRepository(session).contact_id_of(address.participant_id)
        return None if contact_id is None else await contacts.get(contact_id, lock=True)

    async def _enrolled(
        self, session: AsyncSession, contacts: Sequence[Contact]
    ) -> dict[int, list[Participation]]:
        """Every study each number takes part in (whose study is still in the content), by
        contact id: three queries, however many numbers."""
        by_id = {contact.id: contact for contact in contacts if contact.id is not None}
        participants = ParticipantRepository(session)
        rows = await participants.for_contacts(list(by_id))
        ids = [p.id for p in rows if p.id is not None]
        consent = await participants.consent_of(ids)
        # Whether CALL would only repeat a request still waiting (the engine says so).
        waiting = await CallbackRepository(session).waiting_among(ids)
        enrolled: dict[int, list[Participation]] = {contact_id: [] for contact_id in by_id}
        for participant in rows:
            study = self.deps.studies.get(participant.study_id)
            if study is not None and participant.id is not None:
                enrolled[participant.contact_id].append(
                    Participation(
                        study,
                        participant,
                        by_id[participant.contact_id],
                        consent[participant.id],
                        callback_open=participant.id in waiting,
                    )
                )
        return enrolled

    # -- deciding ---------------------------------------------------------------------------

    async def _for_participant(
        self,
        session: AsyncSession,
        who: Participation,
        stimulus: Stimulus,
        can_start: bool,
        now: datetime,
    ) -> Decided | None:
        deps = self.deps
        ctx = who.context(deps.lexicon, now, can_start=can_start)
        if isinstance(stimulus, TimerDue):
            return await self._timer(session, who, stimulus, now)
        if isinstance(stimulus, ErasureRequested):
            return None if who.participant.erased_at else Decided(who, erase(ctx, who.state))
        if who.participant.erased_at is not None:
            if isinstance(stimulus, Said):
                return Decided(None, self._erased_reply(who))
            return None
        if isinstance(stimulus, Said):
            intent = deps.lexicon.read(stimulus.text, [who.language], [who.study.id])
            ctx = await self._with_accesses(session, who, ctx, intent)
            turn = respond(ctx, who.state, intent, seen_question=stimulus.seen_question)
            return Decided(who, turn)
        if isinstance(stimulus, ConfirmationRecorded):
            return Decided(who, respond(ctx, who.state, Intent(command=Command.CONFIRM)))
        if isinstance(stimulus, StudyChanged):
            assert stimulus.study.changes is not None
            who = replace(who, study=stimulus.study)
            ctx = who.context(deps.lexicon, now, can_start=can_start)
            return Decided(who, study_changed(ctx, who.state, stimulus.study.changes))
        if isinstance(stimulus, Invited):
            return await self._invite(session, who, ctx, now)
        assert isinstance(stimulus, LanguageChosen)
        return Decided(who, choose_language(ctx, who.state, stimulus.language))

    async def _with_accesses(
        self, session: AsyncSession, who: Participation, ctx: Context, intent: Intent
    ) -> Context:
        """The context with the person's access list, when the engine will show it: WHO, or
        MORE right after a WHO page. Other turns skip the query."""
        paging = intent.command is Command.MORE and who.state.who_shown > 0
        if intent.command is not Command.WHO and not paging:
            return ctx
        rows = await AccessRepository(session).of_participant(who.participant_id)
        return replace(
            ctx,
            accesses=tuple(seen_by_participant(row) for row in rows),
            max_segments=self.deps.max_segments,
        )

    async def _invite(
        self, session: AsyncSession, who: Participation, ctx: Context, now: datetime
    ) -> Decided:
        """The study's first message, with a personal web link where there is a web page."""
        deps = self.deps
        link = None
        if deps.public_url:
            token = await LinkRepository(session).create(
                who.participant_id, now, deps.link_lifetime
            )
            link = f"{deps.public_url}/i/{token}"
        return Decided(who, invite(ctx, who.state, link), secret=link)

    async def _timer(
        self, session: AsyncSession, who: Participation, due: TimerDue, now: datetime
    ) -> Decided | None:
        timers = TimerRepository(session)
        timer = due.claimed or await timers.claim(due.timer_id, now)
        if timer is None:
            return None
        if who.participant.erased_at is not None or (
            timer.kind in MESSAGE_TIMERS and who.contact.stopped
        ):
            await timers.cancel_claimed(timer.id, now)
            log.info("timer.cancelled", kind=timer.kind.value, participant=who.participant_id)
            return None
        ctx = who.context(self.deps.lexicon, now)
        if timer.kind is TimerKind.INVITATION:
            # A cohort's invitation, stored earlier: the same turn as Invited, sent now.
            return await self._invite(session, who, ctx, now)
        return Decided(who, on_timer(ctx, who.state, timer.kind))

    async def _from_number(
        self,
        session: AsyncSession,
        contact: Contact,
        enrolled: list[Participation],
        said: Said,
        can_start: bool,
        now: datetime,
    ) -> Decided:
        deps = self.deps
        languages = {p.language for p in enrolled} or {"en"}
        intent = deps.lexicon.read(said.text, languages, {p.study.id for p in enrolled})
        decision: Route = route(
            intent, [p.enrolment() for p in enrolled], contact.prompted_participant_id
        )
        who: Participation | None = None
        if isinstance(decision, Join):
            who = await self._join(session, contact, decision.keyword, now)
        elif isinstance(decision, ToParticipant):
            who = next(p for p in enrolled if p.participant_id == decision.participant_id)
        if who is not None:
            ctx = who.context(deps.lexicon, now, can_start=can_start)
            ctx = await self._with_accesses(session, who, ctx, intent)
            return Decided(who, respond(ctx, who.state, intent))
        speaker = self._speaker(contact, enrolled)
        return Decided(
            None, self._about_the_number(decision, intent, speaker, enrolled, now, can_start)
        )

    async def _join(
        self, session: AsyncSession, contact: Contact, keyword: str, now: datetime
    ) -> Participation:
        study = self.deps.studies.by_keyword(keyword)
        assert study is not None
        assert contact.id is not None
        participant = await ParticipantRepository(session).create(
            study_id=study.id,
            reference=generate_reference(),
            contact_id=contact.id,
            language=study.default_language,
            content_version=study.version,
            now=now,
            joined_by="keyword",
        )
        log.info("participant.joined_by_keyword", study=study.id, participant=participant.id)
        return Participation(study, participant, contact, {})

    @staticmethod
    def _speaker(contact: Contact, enrolled: Sequence[Participation]) -> Participation | None:
        """Whose language to answer in when a reply is about the number, not one study."""
        for who in enrolled:
            if who.participant_id == contact.prompted_participant_id:
                return who
        return enrolled[-1] if enrolled else None

    def _about_the_number(
        self,
        decision: Route,
        intent: Intent,
        speaker: Participation | None,
        enrolled: Sequence[Participation],
        now: datetime,
        can_start: bool,
    ) -> Turn:
        """Replies that belong to no single study: they never change consent."""
        lexicon = self.deps.lexicon
        if isinstance(decision, Stranger) or speaker is None:
            language = speaker.language if speaker else "en"
            return respond_to_stranger(lexicon, language, intent, can_start=can_start)
        say = lexicon.say(speaker.language, speaker.study.timezone)
        state = speaker.state
        if isinstance(decision, AskWhichStudy):
            text = say.which_study(decision.command, decision.keywords)
        elif isinstance(decision, NotJoined):
            text = say.not_joined(decision.keyword)
        elif isinstance(decision, Erased):
            erased = next(p for p in enrolled if p.participant_id == decision.participant_id)
            return self._erased_reply(erased)
        else:
            assert isinstance(decision, EveryStudy)
            texts = []
            for who in enrolled:
                if who.participant_id in decision.participant_ids:
                    ctx = who.context(lexicon, now, can_start=can_start)
                    turn = respond(ctx, who.state, Intent(command=Command.CHOICES))
                    texts.append(f"{who.study.text(who.language).title}\n{turn.replies[0].text}")
            text = "\n\n".join(texts)
        return Turn(state, (Reply(text),))

    def _erased_reply(self, who: Participation) -> Turn:
        say = self.deps.lexicon.say(who.language, who.study.timezone)
        text = say.participation_erased(who.study.text(who.language), who.study.contact)
        return Turn(ConversationState(), (Reply(text),))

    # -- applying and delivering ------------------------------------------------------------

    async def _deliver(
        self,
        session: AsyncSession,
        contact: Contact,
        decided: Decided,
        reply_to: ReplyTo,
        now: datetime,
        planned: list[PlannedMessage] | None,
    ) -> bool:
        who, turn = decided.who, decided.turn
        if isinstance(reply_to, ToPage):
            sessions = WebSessionRepository(session)
            for _always, body in joined_replies(turn):
                sessions.say(reply_to.web, "out", body, now)
            return False
        assert contact.id is not None
        if who is not None and turn.prompts and turn.replies:
            # What we ask by SMS decides where a bare YES, NO or CONFIRM goes next.
            contact.prompted_participant_id = who.participant_id
            keep(session, contact)
        await queue_sms_replies(
            session,
            turn,
            contact_id=contact.id,
            participant_id=who.participant_id if who else None,
            kind=reply_to.kind,
            now=now,
            max_segments=self.deps.max_segments,
            secret=decided.secret,
            vault=self.deps.vault,
            planned=planned,
        )
        return bool(turn.replies)

    # -- anonymous web visitors -------------------------------------------------------------

    async def _anonymous(
        self, session: AsyncSession, web: WebSession, stimulus: Stimulus, now: datetime
    ) -> Outcome:
        """A reader on the web: the engine with no consent at all, replies to the page."""
        deps = self.deps
        study = deps.studies.get(web.study_id)
        assert study is not None
        language = study.language_or_default(web.language)
        sessions = WebSessionRepository(session)
        ctx = Context(study, language, deps.lexicon, {}, now, stopped=False)
        state = ConversationState.from_json(web.conversation)
        if isinstance(stimulus, LanguageChosen):
            turn = choose_language(ctx, state, stimulus.language)
        else:
            assert isinstance(stimulus, Said)
            intent = deps.lexicon.read(stimulus.text, [language], [study.id])
            if intent.command in IDENTITY_COMMANDS:
                return Outcome(needs_identity=True)
            turn = respond(ctx, state, intent)
        assert not turn.changes, "an anonymous turn must never change consent"
        for effect in turn.effects:
            if isinstance(effect, SetLanguage):
                web.language = effect.language
        web.conversation = turn.state.to_json()
        session.add(web)
        for _always, body in joined_replies(turn):
            sessions.say(web, "out", body, now)
        return Outcome(turn=turn)
