"""``consentbot invite --study ID --file cohort.csv``: check the whole file, then invite
with a progress bar at CONSENTBOT_SEND_RATE.

Nothing is stored while any row is bad. Then everyone new is stored at once, each with an
invitation due, and the invitations are sent with a progress bar. An interrupted run
(Ctrl-C, a kill) loses nothing: what it did not send waits in the database, for the running
service to send, or for the same command run again, which skips everyone already invited,
sends what is still waiting, and sends nobody anything twice.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections import Counter
from pathlib import Path

from consentbot.runtime import load_content, open_runtime, require_published
from consentbot.sending_progress import sending_progress, why_waiting
from consentbot.services.clock import system_clock
from consentbot.services.cohort import CohortPlan, Delivery
from consentbot.services.cohort_file import parse_cohort
from consentbot.services.errors import ServiceError
from consentbot.settings import Settings

STEP = 200
"""Invitations run per step at most, between two looks at the progress."""

INTERRUPTED = (
    "interrupted: everyone in the file is stored as invited, and the invitations not sent "
    "yet wait in the database. The running service sends them; or run the same command "
    "again to carry on: nobody is sent anything twice"
)


async def invite_file(settings: Settings, study_id: str, path: Path) -> int:
    """Check ``path``, then invite everyone in it not yet in the study. Exit 1 on bad rows."""
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as error:
        print(f"consentbot: --file {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    parsed = parse_cohort(data)
    content = load_content(settings)
    async with open_runtime(settings, content, clock=system_clock) as runtime:
        try:
            require_published(content, study_id)
            plan = await runtime.cohort.plan(study_id, parsed.rows, "line")
        except ServiceError as error:
            print(f"consentbot: {error.message}", file=sys.stderr)
            return 1
        problems = sorted([*parsed.problems, *plan.problems], key=lambda p: p.position)
        if problems:
            for problem in problems:
                print(f"{path}: {problem.on_line()}", file=sys.stderr)
            print(
                f"consentbot: {len(problems):,} bad row{'s' if len(problems) > 1 else ''} in "
                f"{path}: nobody was invited. Fix them and run the command again.",
                file=sys.stderr,
            )
            return 1
        if plan.already_invited:
            print(f"{plan.already_invited:,} already invited, skipped")
        invited = await runtime.cohort.invite(plan)
        ids = await runtime.cohort.waiting(plan.study.id)
        if earlier := len(ids) - len(invited):
            print(f"{earlier:,} invited earlier and not sent yet: sending them now")
        if not ids:
            print(f"nobody new to invite to {plan.study.id}")
            return 0
        # About one second's sending per step: the bar moves steadily.
        step = max(1, min(STEP, math.ceil(settings.send_rate)))
        waiting = len(ids)
        with sending_progress() as progress:
            task = progress.add_task(f"inviting to {plan.study.id}", total=waiting)
            while waiting:
                await runtime.cohort.send_due(plan.study.id, step)
                await runtime.dispatcher.drain()
                left = len(await runtime.cohort.waiting(plan.study.id))
                if left >= waiting:
                    break  # another process holds them: the running service sends them
                progress.advance(task, waiting - left)
                waiting = left
        outcomes = await runtime.cohort.invitation_outcomes(ids)
    print(_summary(plan, len(ids), outcomes))
    return 0


def _summary(plan: CohortPlan, invited: int, outcomes: Counter[Delivery]) -> str:
    parts = [f"{outcomes[Delivery.SENT]:,} sent"]
    if stopped := outcomes[Delivery.STOPPED]:
        parts.append(f"{stopped:,} not sent: the number has sent STOP (recorded as invited)")
    if waiting := outcomes[Delivery.WAITING]:
        parts.append(f"{waiting:,} waiting {why_waiting(plan.study)}")
    if failed := outcomes[Delivery.FAILED]:
        parts.append(f"{failed:,} not sent: the gateway refused them (see the log)")
    return f"{invited:,} invited to {plan.study.id}: " + "; ".join(parts)
