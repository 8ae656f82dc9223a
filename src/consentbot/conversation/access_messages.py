"""What WHO says: who used the person's data, when and what for, newest first, in pages.

A page holds as many accesses as fit the SMS budget (``max_segments``); when more are
left it ends by naming the word for MORE, and the conversation state remembers how many
were shown so that MORE lists the next ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from babel.dates import format_date

from consentbot.conversation.messages import Say
from consentbot.conversation.vocabulary import Command
from consentbot.domain.accesses import AccessorKind, AccessSeen
from consentbot.domain.sms_segments import segment_count


@dataclass(frozen=True, slots=True)
class WhoPage:
    """One page of WHO's answer and how many accesses the pages so far have shown."""

    text: str
    shown: int
    more_left: bool


def no_accesses(say: Say) -> str:
    """WHO before anyone used the person's data."""
    return say.t.gettext(
        "Nobody has used your data from this study yet. Send {who} again later to check."
    ).format(who=say.v.word(Command.WHO))


def access_line(say: Say, access: AccessSeen, titles: Mapping[str, str]) -> str:
    """One access: the date (in the study's time zone), who, and the purpose's title."""
    local = access.at.astimezone(say.zone)
    when = format_date(local, "long", locale=say.t.locale).replace("\u202f", " ")
    purpose = titles.get(access.purpose, access.purpose)
    organisation = say.t.isolate(access.accessor_organisation)
    name = say.t.isolate(access.accessor_name)
    if access.accessor_kind is AccessorKind.COMPANY:
        # Translators: one use of the person's data by a company, e.g. "2 December 2026:
        # Acme Ltd, a company (Dr A Shah). Purpose: Research using your health records."
        line = say.t.gettext("{date}: {organisation}, a company ({name}). Purpose: {purpose}.")
    else:
        # Translators: one use of the person's data, e.g. "2 December 2026: University of
        # Leeds (Dr A Shah). Purpose: Research using your health records."
        line = say.t.gettext("{date}: {organisation} ({name}). Purpose: {purpose}.")
    return line.format(date=when, organisation=organisation, name=name, purpose=purpose)


def who_page(
    say: Say,
    accesses: Sequence[AccessSeen],
    titles: Mapping[str, str],
    *,
    start: int,
    max_segments: int,
) -> WhoPage:
    """The page of ``accesses`` (newest first) that begins at ``start``.

    It takes accesses while the text, with the line that says how to see more, fits in
    ``max_segments``; always at least one, however long.
    """
    heading = (
        say.t.gettext("Who has used your data, newest first:")
        if start == 0
        else say.t.gettext("More uses of your data:")
    )
    more = say.t.gettext("Send {more} to see more.").format(more=say.v.word(Command.MORE))
    lines = [heading]
    end = start
    while end < len(accesses):
        candidate = [*lines, access_line(say, accesses[end], titles)]
        last = end + 1 == len(accesses)
        text = "\n".join(candidate if last else [*candidate, more])
        if end > start and segment_count(text) > max_segments:
            break
        lines = candidate
        end += 1
    more_left = end < len(accesses)
    if more_left:
        lines.append(more)
    return WhoPage("\n".join(lines), end, more_left)
