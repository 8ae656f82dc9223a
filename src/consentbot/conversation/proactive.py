"""Turns that start with us, not with an inbound message: timers, and unknown numbers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from consentbot.conversation.engine import Context, TurnBuilder
from consentbot.conversation.intents import Intent
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.outcome import (
    Reply,
    ScheduleTimer,
    StartMessages,
    StopMessages,
    Turn,
)
from consentbot.conversation.state import ConversationState
from consentbot.conversation.study_changes import reconsent_lapsed
from consentbot.conversation.vocabulary import Command
from consentbot.domain import cooling_off
from consentbot.domain.timers import TimerKind
from consentbot.domain.transitions import ConsentAction

_UTC = ZoneInfo("UTC")


def on_timer(ctx: Context, state: ConversationState, kind: TimerKind) -> Turn:
    """What a due timer does: remind, expire pending answers, or follow up a LATER."""
    b = TurnBuilder(ctx, state)
    rules = ctx.study.cooling_off
    if kind is TimerKind.CONFIRM_REMINDER:
        # Only yeses that CONFIRM would take now: a reminder run after the deadline
        # (downtime, a clock jump) must not ask for a CONFIRM that would be refused.
        ready = cooling_off.confirmable(b.consent, rules, ctx.now)
        since = [c.pending_since for p, c in b.consent.items() if p in ready and c.pending_since]
        if since:
            b.reply(b.say.confirm_reminder(b.text, min(rules.expires_at(s) for s in since)))
            b.prompts = True
    elif kind is TimerKind.EXPIRY:
        lapsed = cooling_off.lapsed(b.consent, rules, ctx.now)
        for purpose in lapsed:
            b.apply(purpose, ConsentAction.EXPIRE)
        if lapsed:
            b.reply(b.say.expired(b.text, ctx.study.keyword))
        remaining = [c.pending_since for c in b.pending().values() if c.pending_since is not None]
        if remaining:
            b.effects.append(
                ScheduleTimer(TimerKind.EXPIRY, min(rules.expires_at(s) for s in remaining))
            )
    elif kind is TimerKind.LATER:
        b.reply(b.say.later_reminder(b.text))
        b.prompts = True
    elif kind is TimerKind.RECONSENT_EXPIRY:
        reconsent_lapsed(b)
    return b.turn()


def respond_to_stranger(
    lexicon: Lexicon, language: str, intent: Intent, *, can_start: bool = True
) -> Turn:
    """A number with no study yet: STOP and START still work; anything else gets a pointer.

    ``can_start`` as in :class:`Context`: whether a START here may lift the number's STOP.
    """
    say = lexicon.say(language, _UTC)
    state = ConversationState()
    if intent.command is Command.STOP:
        return Turn(state, (Reply(say.stopped(), always=True),), effects=(StopMessages(),))
    if intent.command is Command.START and not can_start:
        return Turn(state, (Reply(say.start_from_phone()),))
    if intent.command is Command.START:
        return Turn(state, (Reply(say.started(), always=True),), effects=(StartMessages(),))
    return Turn(state, (Reply(say.unknown_number()),))
