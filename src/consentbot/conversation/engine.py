"""The conversation engine: one message, already read, in; one :class:`Turn` out.

Pure: everything it needs arrives in :class:`Context`, and what should happen
comes back as data. It applies the consent rules of :mod:`consentbot.domain` to a
copy of the participant's consent, so the replies describe exactly the changes the
consent service will write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from consentbot.content.model import Study, StudyText
from consentbot.conversation import access_messages, callback_messages
from consentbot.conversation.intents import Intent, Miss, NearMiss
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.outcome import (
    CancelTimers,
    ConsentChange,
    Effect,
    Reply,
    RequestCallback,
    RevokeLinks,
    ScheduleTimer,
    SetLanguage,
    StartMessages,
    StopMessages,
    Turn,
)
from consentbot.conversation.state import ConversationState, Layer
from consentbot.conversation.vocabulary import Command
from consentbot.domain import cooling_off
from consentbot.domain.accesses import AccessSeen
from consentbot.domain.cooling_off import NO_ANSWER, PurposeConsent
from consentbot.domain.status import ConsentStatus
from consentbot.domain.timers import MESSAGE_TIMERS, TimerKind
from consentbot.domain.transitions import ConsentAction, is_recorded, next_status
from consentbot.domain.withdrawal import WithdrawalLevel


@dataclass(frozen=True)
class Context:
    """What the engine knows about one participant at one moment."""

    study: Study
    language: str
    lexicon: Lexicon
    consent: Mapping[str, PurposeConsent]
    now: datetime
    stopped: bool
    can_start: bool = True
    """Whether a START here may lift the number's STOP (see domain.stopping.can_lift_stop)."""
    callback_open: bool = False
    """A call-back request of this participant is still open or claimed: CALL adds no other."""
    accesses: tuple[AccessSeen, ...] = ()
    """Who used this person's data, newest first: loaded only for WHO (and MORE after it)."""
    max_segments: int = 6
    """The SMS budget of one reply: a WHO page fits in it."""


class TurnBuilder:
    """Accumulates one turn: a working copy of consent, replies, changes and effects."""

    def __init__(self, ctx: Context, state: ConversationState) -> None:
        self.ctx = ctx
        self.study = ctx.study
        self.language = ctx.language
        # WHO's paging lasts one message: only a MORE right after a page continues it.
        self.who_shown = state.who_shown
        self.state = replace(state, who_shown=0) if state.who_shown else state
        self.consent: dict[str, PurposeConsent] = {
            purpose: ctx.consent.get(purpose, NO_ANSWER) for purpose in ctx.study.purpose_ids
        }
        self.replies: list[Reply] = []
        self.changes: list[ConsentChange] = []
        self.effects: list[Effect] = []
        self.prompts = False
        self._set_language(self.language)

    def _set_language(self, language: str) -> None:
        self.language = language
        self.say = self.ctx.lexicon.say(language, self.study.timezone)
        self.text: StudyText = self.say.shown(self.study.text(language))

    def switch_language(self, language: str) -> None:
        self._set_language(language)
        self.effects.append(SetLanguage(language))

    def reply(self, text: str, *, always: bool = False) -> None:
        self.replies.append(Reply(text, always))

    def apply(
        self, purpose: str, action: ConsentAction, level: WithdrawalLevel | None = None
    ) -> ConsentChange | None:
        current = self.consent[purpose]
        if not is_recorded(current.status, action):
            return None
        target = next_status(current.status, action)
        pending_since = self.ctx.now if target is ConsentStatus.PENDING else None
        self.consent[purpose] = PurposeConsent(target, self.ctx.now, pending_since)
        change = ConsentChange(purpose, action, current.status, target, level)
        self.changes.append(change)
        return change

    def pending(self) -> dict[str, PurposeConsent]:
        return {p: c for p, c in self.consent.items() if c.status is ConsentStatus.PENDING}

    def timers_no_longer_needed(self) -> frozenset[TimerKind]:
        """With nothing pending: every timer, but the one for questions still asked again."""
        if any(c.status is ConsentStatus.RECONSENT_REQUIRED for c in self.consent.values()):
            return frozenset(TimerKind) - {TimerKind.RECONSENT_EXPIRY}
        return frozenset(TimerKind)

    def turn(self) -> Turn:
        return Turn(
            self.state,
            tuple(self.replies),
            tuple(self.changes),
            tuple(self.effects),
            prompts=self.prompts,
        )


def respond(
    ctx: Context, state: ConversationState, intent: Intent, *, seen_question: str | None = None
) -> Turn:
    """Answer one message, read once by :func:`consentbot.conversation.intents.parse`.

    ``seen_question`` is the question the person had in front of them when they answered
    (a web form says; an SMS cannot): a YES or NO meant for a question that is no longer
    the current one is not applied, and the current question is shown instead.
    """
    b = TurnBuilder(ctx, state)
    if seen_question is not None and intent.is_answer and seen_question != state.question_id:
        b.reply(b.say.question_moved_on(waiting=state.asking is not None))
        if state.asking is not None:
            ask_current(b)
        return b.turn()
    _dispatch(b, intent)
    return b.turn()


def _dispatch(b: TurnBuilder, intent: Intent) -> None:
    if intent.command is not None:
        _COMMANDS[intent.command](b)
    elif intent.number is not None:
        _open_topic(b, intent.number)
    elif intent.study_keyword is not None:
        _start_study(b)
    elif intent.language is not None:
        _choose_language(b, intent.language)
    elif intent.near_miss is not None:
        _near_miss(b, intent.near_miss)
    else:
        b.reply(b.say.not_understood(asking=b.state.asking is not None))


def invite(ctx: Context, state: ConversationState, link: str | None = None) -> Turn:
    """The first message of a study: its title and summary (layer 1), and a personal link."""
    b = TurnBuilder(ctx, state)
    b.state = replace(b.state.stop_asking(), layer=Layer.INVITATION, topic=None)
    b.reply(b.say.invitation(b.text, link))
    b.prompts = True
    return b.turn()


def choose_language(ctx: Context, state: ConversationState, language: str) -> Turn:
    """The person picked a language (the web page's switcher): use it from now on."""
    b = TurnBuilder(ctx, state)
    _choose_language(b, language)
    return b.turn()


def _near_miss(b: TurnBuilder, miss: NearMiss) -> None:
    """Looks like a consent word, but is not clear enough to act on: name the exact word."""
    word = b.ctx.lexicon.vocabulary(b.language).word(miss.command)
    if miss.why is Miss.QUESTION:
        b.reply(b.say.question_not_answer(word, b.study.contact))
    else:
        b.reply(b.say.say_it_alone(word, letter=miss.why is Miss.LETTER))


def _start_study(b: TurnBuilder) -> None:
    if b.state.layer is Layer.NONE and all(
        c.status is ConsentStatus.NONE for c in b.consent.values()
    ):
        b.state = b.state.at(Layer.INVITATION)
        b.reply(b.say.invitation(b.text))
        b.prompts = True
        return
    b.reply(b.say.welcome_back(b.text))
    if b.state.asking is not None:
        ask_current(b)
        return
    b.state = b.state.at(Layer.INVITATION)
    b.reply(b.say.invitation(b.text))
    b.prompts = True


def _more(b: TurnBuilder) -> None:
    if b.who_shown:
        _who_from(b, b.who_shown)
        return
    if b.state.asking is not None:
        b.reply(b.say.explanation(b.text, b.text.purposes[b.state.asking]))
        return
    topics = b.text.topics
    index = _topic_index(b)
    if b.state.layer in (Layer.NONE, Layer.INVITATION):
        b.state = b.state.at(Layer.TOPICS)
        b.reply(b.say.topic_list(b.text))
    elif b.state.layer is Layer.TOPICS or index is None:
        _open_topic(b, 1)
    elif b.state.layer is Layer.TOPIC:
        b.state = b.state.at(Layer.DETAIL, topics[index].id)
        b.reply(b.say.topic_detail(b.text, topics[index], last=index == len(topics) - 1))
    elif index + 1 < len(topics):
        _open_topic(b, index + 2)
    else:
        b.state = b.state.at(Layer.TOPICS)
        b.reply(b.say.topic_list(b.text))


def _topic_index(b: TurnBuilder) -> int | None:
    ids = [topic.id for topic in b.text.topics]
    return ids.index(b.state.topic) if b.state.topic in ids else None


def _open_topic(b: TurnBuilder, number: int) -> None:
    topics = b.text.topics
    if not 1 <= number <= len(topics):
        b.reply(b.say.bad_topic_number(len(topics)))
        return
    topic = topics[number - 1]
    b.state = b.state.at(Layer.TOPIC, topic.id)
    b.reply(b.say.topic_summary(b.text, topic))
    if b.state.asking is not None:
        ask_current(b)


def ask_current(b: TurnBuilder) -> None:
    """Ask the question the state is waiting on."""
    state = b.state
    purpose = state.asking
    assert purpose is not None
    order = b.study.purpose_ids
    if state.round_size:
        number, total = state.round_size - len(state.queue), state.round_size
    else:
        number, total = order.index(purpose) + 1, len(order)
    b.prompts = True
    b.reply(
        b.say.question(
            b.text,
            number,
            total,
            b.text.purposes[purpose],
            required=b.study.is_required(purpose),
        )
    )


def _start_choices(b: TurnBuilder, *, changing: bool) -> None:
    order = b.study.purpose_ids
    b.state = b.state.ask(order, changing=changing)
    intro = b.say.change_intro() if changing else b.say.choices_intro(len(order))
    b.reply(f"{intro} {b.say.time_to_think(b.study.cooling_off.period)}")
    ask_current(b)


def _yes(b: TurnBuilder) -> None:
    if b.state.asking is None:
        _start_choices(b, changing=False)
        return
    b.apply(b.state.asking, ConsentAction.ANSWER_YES)
    _next_question(b)


def _no(b: TurnBuilder) -> None:
    purpose = b.state.asking
    if purpose is None:
        if all(c.status is ConsentStatus.NONE for c in b.consent.values()):
            # "No" to the invitation itself: they do not want to take part.
            _decline_study(b)
        else:
            b.reply(b.say.no_question())
        return
    if b.study.is_required(purpose):
        _decline_study(b)
        return
    b.apply(purpose, ConsentAction.ANSWER_NO)
    _next_question(b)


def _decline_study(b: TurnBuilder) -> None:
    """No to a required purpose: no to the study. Nothing else may stay agreed."""
    for purpose in b.study.purpose_ids:
        if b.study.is_required(purpose):
            b.apply(purpose, ConsentAction.ANSWER_NO)
        else:
            b.apply(purpose, ConsentAction.WITHDRAW, WithdrawalLevel.NO_FURTHER_USE)
    b.state = b.state.stop_asking()
    b.effects.append(CancelTimers(frozenset(TimerKind)))
    b.effects.append(RevokeLinks())
    b.reply(b.say.declined_study(b.text, b.study.keyword))


def _next_question(b: TurnBuilder) -> None:
    b.state = b.state.next_question()
    if b.state.asking is not None:
        ask_current(b)
        return
    _finish_answers(b)


def _finish_answers(b: TurnBuilder) -> None:
    pending = b.pending()
    if not pending:
        b.effects.append(CancelTimers(b.timers_no_longer_needed()))
        b.reply(b.say.answers_saved())
        return
    rules = b.study.cooling_off
    since = [c.pending_since for c in pending.values() if c.pending_since is not None]
    opens = cooling_off.latest_opening(since, rules)
    assert opens is not None
    expires = min(rules.expires_at(moment) for moment in since)
    b.effects.append(ScheduleTimer(TimerKind.CONFIRM_REMINDER, opens))
    b.effects.append(ScheduleTimer(TimerKind.EXPIRY, expires))
    b.reply(b.say.answers_wait(opens, rules.expires_at(max(since))))
    b.prompts = True


def _confirm(b: TurnBuilder) -> None:
    rules = b.study.cooling_off
    now = b.ctx.now
    ready = cooling_off.confirmable(b.consent, rules, now)
    waiting = cooling_off.still_cooling(b.consent, rules, now)
    first_open = min(
        (rules.opens_at(b.consent[p].pending_since or now) for p in waiting), default=None
    )
    if not ready:
        if first_open is not None:
            b.reply(b.say.confirm_too_early(first_open))
        else:
            b.reply(b.say.nothing_to_confirm())
        return
    for purpose in ready:
        b.apply(purpose, ConsentAction.CONFIRM)
    if not waiting:
        b.effects.append(CancelTimers(frozenset({TimerKind.CONFIRM_REMINDER})))
    titles = [b.text.purposes[p].title for p in ready]
    b.reply(b.say.confirmed(titles, first_open))


def _choices(b: TurnBuilder) -> None:
    rules = b.study.cooling_off
    lines = []
    for purpose in b.study.purpose_ids:
        consent = b.consent[purpose]
        opens = rules.opens_at(consent.pending_since) if consent.pending_since else None
        lines.append(b.say.status_line(b.text.purposes[purpose].title, consent.status, opens))
    b.reply(b.say.choices(lines, stopped=b.ctx.stopped))


def _change(b: TurnBuilder) -> None:
    _start_choices(b, changing=True)


def _withdraw(b: TurnBuilder) -> None:
    changed = [
        b.apply(purpose, ConsentAction.WITHDRAW, WithdrawalLevel.NO_FURTHER_USE)
        for purpose in b.study.purpose_ids
    ]
    b.state = b.state.stop_asking()
    b.effects.append(CancelTimers(frozenset(TimerKind)))
    b.effects.append(RevokeLinks())
    if any(changed):
        b.reply(b.say.withdrawn(b.text, b.study.contact, b.study.keyword))
    else:
        b.reply(b.say.nothing_to_withdraw(b.study.keyword))


def _later(b: TurnBuilder) -> None:
    when = b.ctx.now + b.study.remind_later
    b.effects.append(ScheduleTimer(TimerKind.LATER, when))
    b.reply(b.say.later(when))


def _help(b: TurnBuilder) -> None:
    b.reply(b.say.help(b.text, b.study.contact))


def _stop(b: TurnBuilder) -> None:
    b.effects.append(StopMessages())
    b.effects.append(CancelTimers(MESSAGE_TIMERS))
    b.effects.append(RevokeLinks())
    b.reply(b.say.stopped(), always=True)


def _start(b: TurnBuilder) -> None:
    if not b.ctx.can_start:
        b.reply(b.say.start_from_phone())
        return
    b.effects.append(StartMessages())
    b.reply(b.say.started(), always=True)


def _language(b: TurnBuilder) -> None:
    translator = b.ctx.lexicon.translator(b.language)
    names = [(code, translator.language_name(code)) for code in b.study.languages]
    b.reply(b.say.language_list(names))


def _choose_language(b: TurnBuilder, language: str) -> None:
    if language not in b.study.languages:
        # Understood as a language, but this study is not written in it.
        _language(b)
        return
    b.switch_language(language)
    b.reply(b.say.language_set(b.ctx.lexicon.translator(language).language_name(language)))
    if b.state.asking is not None:
        ask_current(b)


def _call(b: TurnBuilder) -> None:
    """Ask for a phone call. It queues a request and changes nothing about consent."""
    hours = b.study.callback_hours
    if hours is None:
        b.reply(callback_messages.no_callbacks(b.say, b.study.contact))
    elif b.ctx.callback_open:
        b.reply(callback_messages.callback_already_queued(b.say))
    else:
        b.effects.append(RequestCallback())
        expect_from = hours.expect_from(b.ctx.now, b.study.timezone)
        b.reply(callback_messages.callback_queued(b.say, expect_from, hours))


def _who(b: TurnBuilder) -> None:
    """Who used the person's data, newest first; MORE lists the next page."""
    _who_from(b, 0)


def _who_from(b: TurnBuilder, start: int) -> None:
    accesses = b.ctx.accesses
    if not accesses:
        b.reply(access_messages.no_accesses(b.say))
        return
    titles = {purpose: text.title for purpose, text in b.text.purposes.items()}
    page = access_messages.who_page(
        b.say,
        accesses,
        titles,
        start=min(start, len(accesses) - 1),
        max_segments=b.ctx.max_segments,
    )
    b.reply(page.text)
    if page.more_left:
        b.state = replace(b.state, who_shown=page.shown)


_COMMANDS = {
    Command.MORE: _more,
    Command.YES: _yes,
    Command.NO: _no,
    Command.CONFIRM: _confirm,
    Command.CHOICES: _choices,
    Command.CHANGE: _change,
    Command.WITHDRAW: _withdraw,
    Command.LATER: _later,
    Command.HELP: _help,
    Command.STOP: _stop,
    Command.START: _start,
    Command.LANGUAGE: _language,
    Command.CALL: _call,
    Command.WHO: _who,
}
