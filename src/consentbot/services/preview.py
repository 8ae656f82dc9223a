"""``consentbot content preview``: a study's conversation as the person would get it by SMS.

The conversation comes from the real engine (:mod:`consentbot.conversation.walkthrough`);
each turn's replies are joined and split into SMS exactly as the pipeline and the
outbox do (:func:`joined_replies`, :func:`planned`), and each message is counted in
its real encoding (:mod:`consentbot.domain.sms_segments`). Nothing is stored or sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from consentbot.content.model import Study
from consentbot.content.sms_cost import ENCODING_NAMES
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.walkthrough import Step, StepKind, Walkthrough, walk
from consentbot.domain.sms_segments import Encoding, planned
from consentbot.services.turns import joined_replies

PREVIEW_DAY: Final = (2026, 3, 3)
"""The fixed day the preview's invitation goes: a Tuesday, far from clock changes."""
PREVIEW_TIME: Final = time(10, 0)
"""...at this local time, outside any sensible quiet hours."""


@dataclass(frozen=True, slots=True)
class Sms:
    """One SMS as the outbox would send it."""

    text: str
    encoding: Encoding
    segments: int


@dataclass(frozen=True, slots=True)
class SmsStep:
    """A turn of the conversation and the SMS it sends."""

    step: Step
    sent_at: datetime
    """When the messages go: messages we start wait for quiet hours to end."""
    messages: tuple[Sms, ...]


@dataclass(frozen=True)
class SmsPreview:
    """A study's whole conversation in one language, as SMS."""

    study: Study
    language: str
    link: str | None
    steps: tuple[SmsStep, ...]

    @property
    def messages(self) -> list[Sms]:
        """Every SMS the person receives, in order."""
        return [message for step in self.steps for message in step.messages]

    @property
    def segments(self) -> int:
        """What the whole conversation costs, in segments."""
        return sum(message.segments for message in self.messages)


def preview_start(study: Study) -> datetime:
    """The fixed moment the preview's invitation goes (local time in the study's zone, as UTC,
    as the service's clock keeps it: durations are elapsed time, not wall-clock time)."""
    local = datetime.combine(date(*PREVIEW_DAY), PREVIEW_TIME, tzinfo=study.timezone)
    return local.astimezone(UTC)


def preview_walk(
    study: Study, language: str, lexicon: Lexicon, link: str | None = None
) -> Walkthrough:
    """The whole conversation in ``language``, on the preview's fixed clock."""
    return walk(study, language, lexicon, preview_start(study), link)


def sms_preview(
    study: Study, language: str, journey: Walkthrough, *, max_segments: int, link: str | None
) -> SmsPreview:
    """``journey`` (from :func:`preview_walk`), split and counted as the outbox would send it.

    ``max_segments`` is ``CONSENTBOT_SMS_MAX_SEGMENTS``: a longer reply goes as several SMS.
    """
    steps = []
    for step in journey.steps:
        sent_at = step.at
        if step.kind is not StepKind.SAID and study.quiet_hours is not None:
            sent_at = study.quiet_hours.next_allowed(step.at, study.timezone)
        messages = tuple(
            Sms(*message)
            for _always, body in joined_replies(step.turn)
            for message in planned(body, max_segments)
        )
        steps.append(SmsStep(step, sent_at, messages))
    return SmsPreview(study, language, link, tuple(steps))


def render_sms_preview(preview: SmsPreview) -> str:
    """The transcript for a terminal.

    What the person sends is ``> WORD``; each SMS is a header line
    ``< SMS n, <when>, <encoding>, <k> segment(s)`` followed by its text, every line
    prefixed with ``  | `` (an empty line is ``  |``), so the text can be read back exactly.
    """
    study, zone = preview.study, preview.study.timezone
    text = study.text(preview.language)
    status = "reviewed" if text.status == "reviewed" else f"{text.status} translation"
    first = preview.steps[0].sent_at.astimezone(zone)
    lines = [
        f"{study.id} v{study.version} in {preview.language} ({status}), as SMS. "
        f"Nothing is sent or stored.",
        f"The clock is fixed: the invitation goes {first:%A} {first.day} {first:%B %Y at %H:%M} "
        f"({zone.key}).",
        f"The invitation carries a personal link like {preview.link}."
        if preview.link
        else "No personal link: CONSENTBOT_PUBLIC_URL is not set.",
    ]
    number = 0
    for sms_step in preview.steps:
        step = sms_step.step
        lines.append("")
        if step.kind is StepKind.SAID:
            lines.append(f"> {step.said}")
        else:
            lines.append(_event_line(sms_step, zone))
        for message in sms_step.messages:
            number += 1
            plural = "" if message.segments == 1 else "s"
            lines.append(
                f"< SMS {number}, {_short(sms_step.sent_at, zone)}, "
                f"{ENCODING_NAMES[message.encoding]}, {message.segments} segment{plural}"
            )
            lines.extend(f"  | {line}".rstrip() for line in message.text.split("\n"))
    by_encoding = ", ".join(
        f"{sum(1 for m in preview.messages if m.encoding == encoding)} {name}"
        for encoding, name in ENCODING_NAMES.items()
    )
    lines += [
        "",
        f"Total: {len(preview.messages)} messages, {preview.segments} segments ({by_encoding}).",
    ]
    return "\n".join(lines) + "\n"


def _event_line(sms_step: SmsStep, zone: ZoneInfo) -> str:
    """A turn we start: the invitation, or the reminder timer firing."""
    step = sms_step.step
    what = (
        "invitation"
        if step.kind is StepKind.INVITATION
        else "reminder: the time to think is over and the timer fires"
    )
    held = (
        f"; held by quiet hours until {_short(sms_step.sent_at, zone)}"
        if sms_step.sent_at != step.at
        else ""
    )
    return f"-- {what}, {_short(step.at, zone)}{held} --"


def _short(moment: datetime, zone: ZoneInfo) -> str:
    """ "Tue 3 Mar 10:01", local time in the study's zone."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M}"
