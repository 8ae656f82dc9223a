"""How far a sent message has got, from gateways' delivery reports, which may come late or twice.

Reports travel separately and can overtake each other: Twilio may post ``delivered``
before ``sent``, Kannel's "delivered" can arrive before its "accepted by the SMSC",
and either may repeat one. The recorded status only ever moves forward.
"""

from __future__ import annotations

from enum import IntEnum


class DeliveryStage(IntEnum):
    """The order of delivery statuses; a later stage is further along."""

    QUEUED = 0
    """The gateway has it and has not yet handed it on."""
    SENT = 1
    """Handed to the carrier (Twilio ``sent``, Kannel ``submitted``)."""
    FINAL = 2
    """The carrier's last word: delivered, or it never will be."""


_STAGES: dict[str, DeliveryStage] = {
    # Twilio's MessageStatus values, and Kannel's DLR types as channels/kannel.py names them.
    "accepted": DeliveryStage.QUEUED,
    "scheduled": DeliveryStage.QUEUED,
    "queued": DeliveryStage.QUEUED,
    "sending": DeliveryStage.QUEUED,
    "sent": DeliveryStage.SENT,
    "submitted": DeliveryStage.SENT,
    "delivered": DeliveryStage.FINAL,
    "undelivered": DeliveryStage.FINAL,
    "failed": DeliveryStage.FINAL,
    "rejected": DeliveryStage.FINAL,
    "canceled": DeliveryStage.FINAL,
    "partially_delivered": DeliveryStage.FINAL,
    "read": DeliveryStage.FINAL,
    # GOV.UK Notify's receipts (channels/notify.py ReceiptStatus) carry only final statuses.
    "permanent-failure": DeliveryStage.FINAL,
    "temporary-failure": DeliveryStage.FINAL,
    "technical-failure": DeliveryStage.FINAL,
}


def delivery_stage(status: str) -> DeliveryStage | None:
    """The stage of a reported status; None for a status we do not know."""
    return _STAGES.get(status.strip().lower())


def report_advances(recorded: str | None, reported: str) -> bool:
    """Whether ``reported`` should replace the ``recorded`` status.

    Only a later stage does. A repeat, a status of the same stage (the first final word
    stands) and an earlier one change nothing. An unknown status is recorded only when
    nothing is, and any known one replaces it.
    """
    if recorded is None:
        return True
    new, old = delivery_stage(reported), delivery_stage(recorded)
    if new is None:
        return False
    return old is None or new > old
