"""``consentbot announce --study ID --file update.yaml [--dry-run]``: send news or results to
everyone whose ``updates`` consent is active, in their language, with a progress bar.

The file is checked first and nothing is stored while it has a problem. ``--dry-run``
prints who would get it, per language, and what each message costs, and changes nothing.
A run stopped part way (Ctrl-C, a kill, a lost database) loses nothing: what was queued
waits in the outbox for the running service, and the same command run again carries on,
skipping everyone already queued. Nobody is sent one announcement twice.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections import Counter
from pathlib import Path

from consentbot.content.sms_cost import ENCODING_NAMES
from consentbot.domain.outbox import OutboxStatus
from consentbot.runtime import load_content, open_runtime, require_published
from consentbot.sending_progress import sending_progress, why_waiting
from consentbot.services.announcement_file import parse_announcement
from consentbot.services.announcements import GROUP, AnnouncementPlan
from consentbot.services.clock import system_clock
from consentbot.services.errors import ServiceError
from consentbot.settings import Settings

INTERRUPTED = (
    "interrupted: everyone queued so far waits in the outbox for the running service. "
    "Run the same command again to carry on: nobody is sent it twice"
)


async def announce(settings: Settings, study_id: str, path: Path, *, dry_run: bool) -> int:
    """Check ``path``, then send it (or with ``dry_run`` say what sending would do).

    Exit 1 on any problem with the file or the study, having stored nothing.
    """
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as error:
        print(f"consentbot: --file {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    parsed = parse_announcement(data)
    if parsed.announcement is None:
        return _refuse(path, [str(problem) for problem in parsed.problems])
    content = load_content(settings)
    async with open_runtime(settings, content, clock=system_clock) as runtime:
        service = runtime.announcements
        try:
            require_published(content, study_id)
            plan = await service.plan(study_id, parsed.announcement)
        except ServiceError as error:
            print(f"consentbot: {error.message}", file=sys.stderr)
            return 1
        if plan.problems:
            return _refuse(path, [str(problem) for problem in plan.problems])
        if dry_run:
            print(_dry_run(plan))
            return 0
        if plan.already_queued:
            print(f"{plan.already_queued:,} already sent it (or queued), skipped")
        total = sum(plan.to_queue.values())
        if not total:
            print(f"nobody new to send {plan.announcement.id} to")
            return 0
        announcement_id = await service.start(plan)
        # About one second's sending per group: the bar moves steadily.
        group = max(1, min(GROUP, math.ceil(settings.send_rate)))
        queued = 0
        with sending_progress() as progress:
            task = progress.add_task(f"sending {plan.announcement.id}", total=total)
            while True:
                done = await service.queue_group(plan, announcement_id, group)
                if not done.looked_at:
                    break
                queued += done.queued
                await runtime.dispatcher.drain()
                progress.advance(task, done.looked_at)
        outcomes = await service.outcomes(announcement_id)
    print(_summary(plan, queued, total - queued, outcomes))
    return 0


def _refuse(path: Path, problems: list[str]) -> int:
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
    print(
        f"consentbot: {count} in {path}: nothing was sent. Fix the file and run the command again.",
        file=sys.stderr,
    )
    return 1


def _dry_run(plan: AnnouncementPlan) -> str:
    total = sum(plan.to_queue.values())
    lines = [
        f"{plan.announcement.id} to {plan.study.id}: {total:,} "
        f"{'person' if total == 1 else 'people'} whose 'updates' is active"
        + (
            f" (and {plan.already_queued:,} sent it earlier, skipped)"
            if plan.already_queued
            else ""
        )
    ]
    for language in plan.study.languages:
        cost = plan.costs[language]
        people = plan.to_queue[language]
        segments = "segment" if cost.segments == 1 else "segments"
        line = (
            f"  {language}: {people:,} {'person' if people == 1 else 'people'}, "
            f"{cost.segments} {segments} each in {ENCODING_NAMES[cost.encoding]} "
            f"({people * cost.segments:,} in all)"
        )
        if stopped := plan.stopped[language]:
            line += f"; {stopped:,} of them sent STOP and will not get it"
        lines.append(line)
    lines.append("dry run: nothing was stored or sent")
    return "\n".join(lines)


def _summary(
    plan: AnnouncementPlan, queued: int, passed_over: int, outcomes: Counter[OutboxStatus]
) -> str:
    parts = [f"{outcomes[OutboxStatus.SENT]:,} sent"]
    stopped = outcomes[OutboxStatus.SUPPRESSED] + outcomes[OutboxStatus.OPTED_OUT]
    if stopped:
        parts.append(f"{stopped:,} not sent: the number has sent STOP")
    if waiting := outcomes[OutboxStatus.PENDING] + outcomes[OutboxStatus.SENDING]:
        parts.append(f"{waiting:,} waiting {why_waiting(plan.study)}")
    if failed := outcomes[OutboxStatus.FAILED] + outcomes[OutboxStatus.UNKNOWN]:
        parts.append(f"{failed:,} not sent: the gateway refused them (see the log)")
    if erased := outcomes[OutboxStatus.ERASED]:
        parts.append(f"{erased:,} not sent: erased on request")
    if not_wanted := outcomes[OutboxStatus.NOT_WANTED]:
        parts.append(f"{not_wanted:,} not sent: 'updates' withdrawn before it went")
    if passed_over:
        parts.append(f"{passed_over:,} withdrew 'updates' meanwhile: not queued")
    head = f"{plan.announcement.id}: {queued:,} queued by this run; of everyone queued so far, "
    return head + "; ".join(parts)
