"""``GET /staff/participants/{study}/{reference}/print``: the printable explanation with the
person's current choices, for admins and the study's own team.

Printed in the person's language unless ``lang`` says otherwise (the person takes the
paper home). Every print is written to the staff access log with the reason ``print``,
in the transaction that reads the choices.
"""

from __future__ import annotations

from aiohttp import web

from consentbot import keys
from consentbot.domain.staff import StaffRole
from consentbot.services.errors import UnknownParticipant
from consentbot.services.printable import PrintedStudy, choices_for_print
from consentbot.services.staff_login import StaffIdentity
from consentbot.web.printable import load_printed, page_context, render, wants_large
from consentbot.web.staff_auth import require_role, staff_identity
from consentbot.web.staff_i18n import translator


@require_role(StaffRole.ADMIN, StaffRole.STUDY_TEAM)
async def print_for_person(request: web.Request) -> web.StreamResponse:
    """The person's printable explanation; a study team sees only its own studies."""
    identity = staff_identity(request)
    study_id = request.match_info["study"]
    _ = translator(request).gettext
    if identity.role is StaffRole.STUDY_TEAM and study_id not in identity.studies:
        raise web.HTTPForbidden(text=_("Your role does not give you access to this page."))
    return await render_for_person(request, identity, study_id, request.match_info["reference"])


async def render_for_person(
    request: web.Request, identity: StaffIdentity, study_id: str, reference: str
) -> web.Response:
    """The printable explanation with ``reference``'s choices, in their language unless the
    address asks for another; the print is written to the access log."""
    printed = await load_printed(request, study_id)
    try:
        choices = await choices_for_print(
            request.config_dict[keys.STAFF_ACCESS], identity.user_id, printed.study, reference
        )
    except UnknownParticipant as error:
        raise web.HTTPNotFound(text=error.message) from None
    if "lang" not in request.query and choices.language in printed.study.languages:
        printed = PrintedStudy(printed.study, choices.language)
    return render(
        request, page_context(request, printed, large=wants_large(request), choices=choices)
    )


def add_print_routes(router: web.UrlDispatcher) -> None:
    """Register the staff print page on the /staff sub-application's router."""
    router.add_resource("/participants/{study}/{reference}/print", name="staff-print").add_route(
        "GET", print_for_person
    )
