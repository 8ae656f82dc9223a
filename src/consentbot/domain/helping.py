"""Which community organisation helps a person, and who may open them because of it.

A person belongs to at most one organisation: the one whose worker registered them, or
first found them when no organisation helped them yet (the person is there, asking that
organisation for help). From then on only that organisation's workers may open them or
see their call-backs; a worker of another organisation finds no one. Admins may open
anyone; a study team works from its studies' pages, not from assisted sessions.
"""

from __future__ import annotations

from datetime import timedelta

from consentbot.domain.staff import StaffRole

VISIT_IDLE = timedelta(minutes=30)
"""An assisted visit left this long without the worker using it has ended (as a staff
session does after 30 minutes idle): the person is sent what was recorded."""


def may_open(role: StaffRole, organisation: str | None, helper: str | None) -> bool:
    """Whether staff of ``role`` in ``organisation`` may open a person helped by ``helper``."""
    if role is StaffRole.ADMIN:
        return True
    if role is StaffRole.COMMUNITY_WORKER and organisation is not None:
        return helper is None or helper == organisation
    return False


def helper_after_opening(
    role: StaffRole, organisation: str | None, helper: str | None
) -> str | None:
    """The person's organisation once staff of ``role`` in ``organisation`` opened them.

    A community worker's organisation becomes the helper of someone no organisation
    helped; nothing else changes who helps (an admin opening a person claims no one).
    """
    if helper is None and role is StaffRole.COMMUNITY_WORKER:
        return organisation
    return helper
