"""The service configured for GOV.UK Notify, and a phone that texts it through the emulator."""

from __future__ import annotations

from consentbot.channels.notify import ReceiptStatus
from consentbot.settings import Settings
from consentbot.testkit.notify import CALLBACK_TOKEN, TEMPLATE_ID, Accepted, FakeNotify


def notify_settings(settings: Settings, notify: FakeNotify, api_base: str) -> Settings:
    """``settings`` switched to the notify gateway, pointed at the emulator at ``api_base``."""
    return settings.with_(
        sms_gateway="notify",
        notify_api_key=notify.api_key,
        notify_template_id=TEMPLATE_ID,
        notify_api_base=api_base.rstrip("/"),
        notify_callback_token=CALLBACK_TOKEN,
    )


class NotifyPhone:
    """One patient's phone: its texts reach the service as Notify's received-text callbacks,
    and it reads what Notify accepted for it, confirming each with a delivery receipt."""

    def __init__(self, notify: FakeNotify, number: str) -> None:
        self.notify = notify
        self.number = number
        self.read = 0

    async def send(self, text: str, *, message_id: str | None = None) -> str:
        """Text ``text``; returns Notify's id for it (to replay it)."""
        sent_id, status = await self.notify.receive_text(self.number, text, message_id=message_id)
        assert status == 204, status
        return sent_id

    async def receive(self) -> list[Accepted]:
        """Messages Notify accepted for this phone since the last read; each gets a receipt."""
        mine = [a for a in self.notify.accepted if a.phone_number == self.number]
        new, self.read = mine[self.read :], len(mine)
        for accepted in new:
            assert await self.notify.send_receipt(accepted, ReceiptStatus.DELIVERED) == 204
        return new

    async def text(self) -> str:
        """Everything received since the last read, as one text (long replies come in parts)."""
        return "\n".join(accepted.body for accepted in await self.receive())
