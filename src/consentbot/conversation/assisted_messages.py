"""What the person is sent after an assisted session: what was recorded, and how to change it.

Pure text, in the person's language, through the gettext catalogs (keywords as
placeholders, so each translation names the words that work in that language).
"""

from __future__ import annotations

from collections.abc import Mapping

from consentbot.content.model import Study, StudyText
from consentbot.conversation.messages import Say
from consentbot.conversation.vocabulary import Command
from consentbot.domain.cooling_off import NO_ANSWER, PurposeConsent


def assisted_receipt(
    say: Say, study: Study, text: StudyText, consent: Mapping[str, PurposeConsent]
) -> str:
    """The receipt: that a worker recorded answers, each choice as it stands, how to change."""
    rules = study.cooling_off
    lines = [
        say.t.gettext(
            "A community worker recorded your answers for {title} with you. "
            "This is what stands now:"
        ).format(title=text.title)
    ]
    for purpose in study.purpose_ids:
        now = consent.get(purpose, NO_ANSWER)
        opens = rules.opens_at(now.pending_since) if now.pending_since else None
        lines.append(say.status_line(text.purposes[purpose].title, now.status, opens))
    lines.append(
        say.t.gettext(
            "To check your choices, reply {choices}. To change them, reply {change}. "
            "To leave the study, reply {withdraw}."
        ).format(
            choices=say.v.word(Command.CHOICES),
            change=say.v.word(Command.CHANGE),
            withdraw=say.v.word(Command.WITHDRAW),
        )
    )
    return "\n".join(lines)
