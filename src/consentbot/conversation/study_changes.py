"""What a person hears when a newly published version changes what they agreed to.

Pure, like the engine. With ``reconsent: required`` the yes given to the old text stops
counting (``reconsent_required``) and the question is asked again; with ``notify`` the
person is only told. Either way only purposes the person said yes to (pending or
active) are concerned: nobody who said no, withdrew or never answered is contacted.
"""

from __future__ import annotations

from consentbot.content.model import Reconsent, StudyChanges
from consentbot.conversation.engine import Context, TurnBuilder, ask_current
from consentbot.conversation.outcome import ScheduleTimer, Turn
from consentbot.conversation.state import ConversationState
from consentbot.domain import cooling_off
from consentbot.domain.status import ConsentStatus
from consentbot.domain.timers import TimerKind
from consentbot.domain.transitions import ConsentAction

AGREED = frozenset({ConsentStatus.PENDING, ConsentStatus.ACTIVE})
"""The statuses a material change concerns: a yes, counted or still cooling off."""


def concerned(ctx: Context, changes: StudyChanges) -> list[str]:
    """The changed purposes this person said yes to, in the order questions are asked."""
    return [
        purpose
        for purpose in ctx.study.purpose_ids
        if purpose in changes.purposes
        and (consent := ctx.consent.get(purpose)) is not None
        and consent.status in AGREED
    ]


def study_changed(ctx: Context, state: ConversationState, changes: StudyChanges) -> Turn:
    """Tell the person what changed; with ``reconsent: required``, ask those questions again."""
    b = TurnBuilder(ctx, state)
    affected = concerned(ctx, changes)
    if not affected:
        return b.turn()
    # Study.text gives the default language's explanation where a translation lacks it.
    explanation = b.text.changes or ""
    if changes.reconsent is Reconsent.NOTIFY:
        b.reply(b.say.study_changed_notice(b.text, explanation))
        return b.turn()
    for purpose in affected:
        b.apply(purpose, ConsentAction.REQUIRE_RECONSENT)
    deadline = cooling_off.next_reconsent_deadline(b.consent, ctx.study.cooling_off)
    assert deadline is not None
    # Asked again first; a round the person was in the middle of carries on after.
    unfinished = ([state.asking] if state.asking else []) + list(state.queue)
    order = (*affected, *(p for p in unfinished if p not in affected))
    b.state = b.state.ask(order, changing=True)
    b.effects.append(ScheduleTimer(TimerKind.RECONSENT_EXPIRY, deadline))
    b.reply(b.say.study_changed_ask_again(b.text, explanation, len(affected), deadline))
    ask_current(b)
    return b.turn()


def reconsent_lapsed(b: TurnBuilder) -> None:
    """The time to answer again ran out: those yeses end as ``expired``, and are not asked."""
    rules = b.study.cooling_off
    lapsed = cooling_off.reconsent_lapsed(b.consent, rules, b.ctx.now)
    for purpose in lapsed:
        b.apply(purpose, ConsentAction.EXPIRE)
    if lapsed:
        b.state = b.state.without(frozenset(lapsed))
        titles = [b.text.purposes[purpose].title for purpose in lapsed]
        b.reply(b.say.reconsent_expired(b.text, titles))
    later = cooling_off.next_reconsent_deadline(b.consent, rules)
    if later is not None:
        b.effects.append(ScheduleTimer(TimerKind.RECONSENT_EXPIRY, later))
