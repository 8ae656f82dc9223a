"""Checking a cohort's rows before anything is stored: every bad row, with its position."""

from __future__ import annotations

from consentbot.domain.outbox import OutboxStatus
from consentbot.services.cohort import Delivery, check_rows, delivery_of
from consentbot.services.cohort_file import CohortRow, RowProblem
from consentbot.services.errors import InvalidInput
from consentbot.services.invitations import InvitationRequest


def check(row: CohortRow) -> InvitationRequest:
    """A stand-in for InvitationService.check: digits only, the last ten are the number."""
    digits = "".join(ch for ch in row.phone if ch.isdigit())
    if len(digits) < 10:
        raise InvalidInput("is not a phone number", field="phone")
    if not row.reference.strip():
        raise InvalidInput("must be 1 to 100 characters", field="reference")
    return InvitationRequest("+44" + digits[-10:], row.reference.strip(), row.language)


def test_every_bad_row_is_named_and_only_good_ones_go_on() -> None:
    rows = [
        CohortRow(2, "07400 900001", "P-1", None),
        CohortRow(3, "12", "P-2", None),
        CohortRow(4, "+44 7400 900001", "P-3", None),  # the same number, written differently
        CohortRow(5, "07400 900005", " P-1 ", "pl"),  # the same reference, once trimmed
        CohortRow(6, "07400 900006", "", None),
        CohortRow(7, "07400 900007", "P-7", "cy"),
    ]
    checked, problems = check_rows(rows, check, "line")
    assert [request.reference for _, request in checked] == ["P-1", "P-7"]
    assert problems == [
        RowProblem(3, "phone", "is not a phone number"),
        RowProblem(4, "phone", "the same number as line 2"),
        RowProblem(5, "reference", "the same as line 2"),
        RowProblem(6, "reference", "must be 1 to 100 characters"),
    ]


def test_an_invitation_in_several_parts_counts_once_by_its_least_advanced_part() -> None:
    assert delivery_of({OutboxStatus.SENT}) is Delivery.SENT
    assert delivery_of({OutboxStatus.SENT, OutboxStatus.PENDING}) is Delivery.WAITING
    assert delivery_of({OutboxStatus.SUPPRESSED}) is Delivery.STOPPED
    assert delivery_of({OutboxStatus.SENT, OutboxStatus.FAILED}) is Delivery.FAILED
