"""Delivery reports only move a message forward."""

from __future__ import annotations

import pytest

from consentbot.channels.notify import ReceiptStatus
from consentbot.domain.delivery import DeliveryStage, delivery_stage, report_advances


@pytest.mark.parametrize(
    ("recorded", "reported", "advances"),
    [
        (None, "queued", True),
        (None, "delivered", True),
        ("queued", "sent", True),
        ("sent", "delivered", True),
        ("submitted", "delivered", True),
        ("queued", "undelivered", True),
        ("delivered", "sent", False),  # late
        ("delivered", "queued", False),
        ("undelivered", "submitted", False),
        ("sent", "sent", False),  # twice
        ("delivered", "delivered", False),
        ("delivered", "undelivered", False),  # the first final word stands
        ("failed", "delivered", False),
        ("sent", "sending", False),
        (None, "some-new-status", True),
        ("some-new-status", "sent", True),
        ("sent", "some-new-status", False),
    ],
)
def test_only_a_later_stage_replaces_the_recorded_status(
    recorded: str | None, reported: str, advances: bool
) -> None:
    assert report_advances(recorded, reported) is advances


def test_stages_of_both_gateways() -> None:
    assert delivery_stage("queued") is DeliveryStage.QUEUED  # Twilio and Kannel (4)
    assert delivery_stage("submitted") is delivery_stage("sent") is DeliveryStage.SENT
    assert {delivery_stage(s) for s in ("delivered", "undelivered", "failed", "rejected")} == {
        DeliveryStage.FINAL
    }
    assert delivery_stage("Delivered") is DeliveryStage.FINAL
    assert delivery_stage("unheard-of") is None


@pytest.mark.parametrize("status", list(ReceiptStatus))
def test_every_notify_receipt_is_a_final_word(status: ReceiptStatus) -> None:
    assert delivery_stage(status.value) is DeliveryStage.FINAL
    assert report_advances("sent", status.value)
    assert not report_advances(status.value, "delivered")
