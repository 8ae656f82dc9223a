"""The line a reply gains when its turn issued a signed receipt (docs/receipts.md)."""

from __future__ import annotations

from consentbot.conversation.outcome import Reply, Turn
from consentbot.i18n.translator import Translator


def receipt_line(t: Translator, reference: str) -> str:
    """ "Your receipt: R-7QF3-M2XA" in ``t``'s language."""
    # Translators: the last line of a text after a consent change. {reference} is a code
    # like R-7QF3-M2XA the person can quote or look up on the study's web page.
    return t.gettext("Your receipt: {reference}").format(reference=t.isolate(reference))


def with_receipt(turn: Turn, line: str) -> Turn:
    """``turn`` with ``line`` after its replies (joined into the same text when sent).

    A turn that says nothing stays silent: the receipt is still on the web page.
    """
    if not turn.replies:
        return turn
    return Turn(
        turn.state,
        (*turn.replies, Reply(line)),
        turn.changes,
        turn.effects,
        prompts=turn.prompts,
    )
