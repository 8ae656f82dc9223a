"""The progress bar of the commands that send to many people (``invite --file``, ``announce``).

On stderr, so stdout keeps only the summary a script reads.
"""

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
