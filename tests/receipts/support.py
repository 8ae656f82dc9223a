"""A person texting the service, and what their receipts say, for the receipts' tests."""

from __future__ import annotations

import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from consentbot import keys
from consentbot.domain.receipt import verify_receipt
from consentbot.services.clock import ManualClock
from consentbot.store.signing_key import existing_signing_key
from tests.conftest import AppClient, settle
from tests.support.journey import STUDY, ResearchSystem, translator
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

REFERENCE = re.compile(r"R-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


def receipt_line(language: str, reference: str) -> str:
    """The line a reply ends with, as the shipped catalog words it."""
    t = translator(language)
    return t.gettext("Your receipt: {reference}").format(reference=t.isolate(reference))


def reference_in(text: str) -> str | None:
    found = REFERENCE.findall(text)
    assert len(found) <= 1, text
    return found[0] if found else None


class Texter:
    """A participant invited by the research system, texting from their own phone."""

    def __init__(
        self, client: AppClient, twilio: FakeTwilio, clock: ManualClock, number: str, reference: str
    ) -> None:
        self.client = client
        self.clock = clock
        self.phone = TwilioPhone(client, twilio, number)
        self.reference = reference
        self.research: ResearchSystem | None = None

    async def invited(self, language: str = "en") -> str:
        self.research = await ResearchSystem.register(self.client)
        await self.research.invite(self.phone.number, self.reference, language)
        await settle(self.client.app)
        return self.phone.text()

    async def say(self, *texts: str) -> str:
        for text in texts:
            await self.phone.send(text)
            await settle(self.client.app)
        await settle(self.client.app)  # with nothing said: what the loops send meanwhile
        return self.phone.text()

    async def receipts(self) -> list[dict[str, Any]]:
        """The API's list, each receipt checked against the service's public key."""
        assert self.research is not None
        response = await self.client.get(
            f"/api/v1/studies/{STUDY}/participants/{self.reference}/receipts",
            headers=self.research.headers,
        )
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        assert (body["study"], body["participant"]) == (STUDY, self.reference)
        for item in body["receipts"]:
            verify_receipt(item["receipt"], public_key(self.client))
            assert item["receipt"]["header"]["consentReceiptID"] == item["reference"]
        receipts: list[dict[str, Any]] = body["receipts"]
        return receipts



def public_key(client: AppClient) -> Ed25519PublicKey:
    """The public half of the key the service signs with (made on its first receipt)."""
    settings = client.app[keys.SETTINGS]
    key = existing_signing_key(settings.audit_signing_key, settings.data_dir)
    assert key is not None, "no receipt was signed: the key was never made"
    return key.public_key()
