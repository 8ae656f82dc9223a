"""The study console pages: ``/staff/studies/{study}`` and its CSV export.

For study teams (their own studies) and admins (every study). Every count shown has
passed small-number suppression; the chart is SVG drawn here, with no JavaScript, and
the table under it gives the same numbers as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp_jinja2
from aiohttp import web

from consentbot import keys
from consentbot.domain.staff import StaffRole
from consentbot.domain.status import ConsentStatus
from consentbot.domain.suppression import THRESHOLD, Count, Hidden
from consentbot.services.clock import Clock
from consentbot.services.console import (
    FunnelStage,
    StudyConsole,
    StudyNotFound,
    StudyNotVisible,
    Week,
)
from consentbot.web.staff_auth import require_role, staff_identity
from consentbot.web.staff_i18n import base_context, translator

CONSOLE = web.AppKey("study_console", StudyConsole)

CHART_HEIGHT = 160
"""Height of the chart's bars area, in SVG units."""
BAR_WIDTH = 14
WEEK_WIDTH = 2 * BAR_WIDTH + 12
CSV_COLUMNS = ("reference", "purpose", "status", "since", "content_version")


def add_console(app: web.Application, staff_router: web.UrlDispatcher, clock: Clock) -> None:
    """Build the console service once the database is open, and register its pages."""

    async def service(app: web.Application) -> AsyncIterator[None]:
        app[CONSOLE] = StudyConsole(app[keys.DATABASE], clock, app[keys.STUDIES])
        yield

    app.cleanup_ctx.append(service)
    add_console_routes(staff_router)


def add_console_routes(router: web.UrlDispatcher) -> None:
    """Register the console's routes on the /staff router."""
    router.add_resource("/studies/{study}", name="staff-console").add_route("GET", console)
    router.add_resource("/studies/{study}/consent.csv", name="staff-console-csv").add_route(
        "GET", export
    )


def status_names(_: Callable[[str], str]) -> dict[ConsentStatus, str]:
    """Each status as the console names it."""
    return {
        ConsentStatus.NONE: _("Not answered"),
        ConsentStatus.PENDING: _("Waiting to confirm"),
        ConsentStatus.ACTIVE: _("Confirmed"),
        ConsentStatus.DECLINED: _("Declined"),
        ConsentStatus.WITHDRAWN: _("Withdrawn"),
        ConsentStatus.EXPIRED: _("Expired"),
        ConsentStatus.RECONSENT_REQUIRED: _("Asked again"),
    }


def stage_names(_: Callable[[str], str]) -> dict[FunnelStage, str]:
    """Each step of the funnel as the console names it."""
    statuses = status_names(_)
    return {
        FunnelStage.INVITED: _("Invited"),
        FunnelStage.READ: _("Opened a topic"),
        FunnelStage.ANSWERED: _("Answered a question"),
        FunnelStage.CONFIRMED: statuses[ConsentStatus.ACTIVE],
        FunnelStage.DECLINED: statuses[ConsentStatus.DECLINED],
        FunnelStage.WITHDRAWN: statuses[ConsentStatus.WITHDRAWN],
        FunnelStage.EXPIRED: statuses[ConsentStatus.EXPIRED],
        FunnelStage.RECONSENT_REQUIRED: statuses[ConsentStatus.RECONSENT_REQUIRED],
    }


def shown(count: Count) -> str:
    """A count as the page writes it: the number, "<5" (small) or "*" (hidden to protect)."""
    if count.hidden is Hidden.SMALL:
        return f"<{THRESHOLD}"
    if count.hidden is Hidden.PROTECTING:
        return "*"
    return str(count.value)


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the chart: where it is and what it says (nothing drawn when hidden)."""

    x: int
    y: int
    height: int
    series: str
    label: str


def chart_bars(weeks: tuple[Week, ...]) -> list[Bar]:
    """The chart's bars, scaled to the largest shown count; a hidden count draws no bar
    (its height would give it away) but is labelled "<5" or "*" like the table."""
    largest = max(
        [count.value or 0 for week in weeks for count in (week.confirmed, week.withdrawn)] + [1]
    )
    bars = []
    for index, week in enumerate(weeks):
        for offset, (series, count) in enumerate(
            (("confirmed", week.confirmed), ("withdrawn", week.withdrawn))
        ):
            height = round((count.value or 0) * CHART_HEIGHT / largest)
            bars.append(
                Bar(
                    x=index * WEEK_WIDTH + offset * BAR_WIDTH,
                    y=CHART_HEIGHT - height,
                    height=height,
                    series=series,
                    label=shown(count),
                )
            )
    return bars


def spreadsheet_safe(value: str) -> str:
    """``value`` made inert for spreadsheets: a cell starting =, +, - or @ is a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _study_or_refuse(request: web.Request, error: Exception) -> web.HTTPException:
    _ = translator(request).gettext
    if isinstance(error, StudyNotFound):
        return web.HTTPNotFound(text=_("There is no study with that name."))
    return web.HTTPForbidden(text=_("You do not have access to this study."))


@require_role(StaffRole.ADMIN, StaffRole.STUDY_TEAM)
async def console(request: web.Request) -> web.StreamResponse:
    """``GET /staff/studies/{study}``: counts, funnel, weekly chart and problems."""
    identity = staff_identity(request)
    try:
        view = await request.config_dict[CONSOLE].view(identity, request.match_info["study"])
    except (StudyNotVisible, StudyNotFound) as error:
        raise _study_or_refuse(request, error) from None
    tr = translator(request)
    # Staff read the study in its own first language: it is the text the study team wrote.
    text = view.study.text(view.study.default_language)
    return aiohttp_jinja2.render_template(
        "staff/console.html",
        request,
        base_context(request)
        | {
            "view": view,
            "shown": shown,
            "status_names": status_names(tr.gettext),
            "stage_names": stage_names(tr.gettext),
            "bars": chart_bars(view.weeks),
            "chart_height": CHART_HEIGHT,
            "chart_width": len(view.weeks) * WEEK_WIDTH,
            "week_width": WEEK_WIDTH,
            "bar_width": BAR_WIDTH,
            "zone": view.study.timezone.key,
            "title": text.title,
            "purpose_titles": {pid: purpose.title for pid, purpose in text.purposes.items()},
        },
    )


@require_role(StaffRole.ADMIN, StaffRole.STUDY_TEAM)
async def export(request: web.Request) -> web.StreamResponse:
    """``GET /staff/studies/{study}/consent.csv``: pseudonymous consent states, no numbers."""
    identity = staff_identity(request)
    study_id = request.match_info["study"]
    try:
        rows = await request.config_dict[CONSOLE].export(identity, study_id)
    except (StudyNotVisible, StudyNotFound) as error:
        raise _study_or_refuse(request, error) from None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                spreadsheet_safe(row.reference),
                row.purpose_id,
                row.status.value,
                row.since.isoformat(),
                row.content_version,
            ]
        )
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{study_id}-consent.csv"'},
    )
