"""The study page as one self-contained HTML file: what ``content preview --html`` writes.

The real template (chat.html, through preview.html, which only swaps the stylesheet link
and script for the stylesheet itself) in the app's own environment, with the context
the app builds (:func:`page_context`) for a participant whose number is checked and
who has had the whole conversation on the page. No script runs or is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

from markupsafe import Markup

from consentbot.content.model import Study
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.vocabulary import Command
from consentbot.conversation.walkthrough import StepKind, Walkthrough
from consentbot.services.turns import joined_replies
from consentbot.services.web_sessions import WebPage
from consentbot.store.tables import WebMessage
from consentbot.web.templating import standalone_environment
from consentbot.web.views import page_context

PLACEHOLDER = "preview"
"""Stands in for the CSRF token and form id: a file has no session to protect."""


def stylesheet() -> str:
    """The page's stylesheet, to inline; refused if it could end its ``<style>`` element."""
    css = (resources.files("consentbot.web") / "static" / "app.css").read_text(encoding="utf-8")
    if "</" in css:
        raise ValueError("app.css contains '</', which would end an inline <style> element")
    return css


def web_transcript(journey: Walkthrough) -> list[WebMessage]:
    """The page's conversation: from the first YES, what the person typed and each reply.

    The page itself shows the summary and topics, so a reader starts answering there;
    the invitation and the reminder go by SMS, never to the page.
    """
    messages: list[WebMessage] = []
    started = False
    for step in journey.steps:
        started = started or step.command is Command.YES
        if not started or step.kind is not StepKind.SAID or step.said is None:
            continue
        said = [("in", step.said)] + [("out", body) for _always, body in joined_replies(step.turn)]
        for direction, body in said:
            messages.append(
                WebMessage(
                    id=len(messages) + 1,
                    web_session_id=0,
                    direction=direction,
                    body=body,
                    created_at=step.at,
                )
            )
    return messages


def render_preview_page(
    study: Study,
    language: str,
    lexicon: Lexicon,
    journey: Walkthrough,
    sms_regions: Sequence[str],
) -> str:
    """The study page in ``language`` after ``journey``, as one HTML document."""
    page = WebPage(
        study,
        language,
        PLACEHOLDER,
        transcript=web_transcript(journey),
        linked=True,
        state=journey.state,
        consent_statuses={purpose: c.status for purpose, c in journey.consent.items()},
        form_id=PLACEHOLDER,
    )
    context = page_context(page, lexicon, sms_regions, None)
    context["stylesheet"] = Markup(stylesheet())  # noqa: S704 (our own file, checked above)
    return standalone_environment().get_template("preview.html").render(context)
