"""The study console lists webhook deliveries given up on among the problems needing a person."""

from __future__ import annotations

from sqlmodel import select

from consentbot import keys
from consentbot.domain.staff import StaffRole
from consentbot.domain.webhooks import DeliveryStatus
from consentbot.store.tables import Participant, WebhookDelivery
from tests.staff.conftest import StaffBrowser
from tests.support.journey import STUDY, ResearchSystem

PAGE = f"/staff/studies/{STUDY}"
LINE = "consent change never reached the study&#39;s systems (webhooks): run consentbot webhook status"


async def test_the_console_counts_failed_deliveries_of_active_webhooks(staff: StaffBrowser) -> None:
    link = await staff.add("admin@example.org", StaffRole.ADMIN)
    await staff.set_password(link)
    await staff.log_in("admin@example.org")
    await staff.enrol("admin@example.org")
    app = staff.app
    research = await ResearchSystem.register(staff.client)
    await research.invite("+447400900171", "F-1")
    webhook = await app[keys.WEBHOOKS].add(STUDY, "https://pipeline.example.org/hooks")
    page = await (await staff.client.get(PAGE)).text()
    assert LINE not in page
    assert "Nothing needs a person." in page
    async with app[keys.DATABASE].transaction() as session:
        (participant,) = (await session.exec(select(Participant))).all()
        assert participant.id is not None
        delivery = WebhookDelivery(
            webhook_id=webhook.id, participant_id=participant.id, message_id="msg_f1", body="{}",
            status=DeliveryStatus.FAILED, attempts=80, created_at=participant.created_at,
            next_attempt_at=participant.created_at, last_error="HTTP 500",
        )
        session.add(delivery)
    page = await (await staff.client.get(PAGE)).text()
    assert f"1 {LINE}" in page
    assert "Nothing needs a person." not in page
    await app[keys.WEBHOOKS].remove(webhook.id)  # removed: nobody can act on it any more
    assert LINE not in await (await staff.client.get(PAGE)).text()
