"""What the commands that send to many people (``invite --file``, ``announce``) show while
they send: a progress bar on stderr (stdout keeps only the summary a script reads), and
why messages still wait."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from consentbot.content.model import Study
from consentbot.services.clock import system_clock


class RateColumn(ProgressColumn):
    """Messages a second, as measured over the last moments."""

    def render(self, task: Task) -> Text:
        """The rate, or nothing until there is one."""
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "", style="progress.data.speed")


def sending_progress() -> Progress:
    """A bar with done/total, the rate and the time left."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("time left"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


def why_waiting(study: Study) -> str:
    """Why messages queued for ``study`` were not sent yet, and who sends them."""
    now = system_clock()
    if study.quiet_hours is not None:
        allowed = study.quiet_hours.next_allowed(now, study.timezone)
        if allowed > now:
            until = allowed.astimezone(study.timezone).strftime("%H:%M")
            return (
                f"for the study's quiet hours to end at {until}: the running server sends them then"
            )
    return "to be retried: the running server sends them"
