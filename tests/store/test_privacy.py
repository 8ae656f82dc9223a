"""Phone numbers encrypted at rest and found by keyed hash; no number or text in logs."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs

from consentbot import keys
from consentbot.store.crypto import PhoneVault, SecretKeyError
from tests.conftest import SECRET, AppClient
from tests.support.journey import ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

NUMBER = "+447400900401"
SECRET_WORDS = "my private words about my knees"


async def test_nothing_sensitive_in_logs_or_plain_in_the_database(
    client: AppClient, fake_twilio: FakeTwilio
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, NUMBER)
    with capture_logs() as logs:
        await research.invite("07400 900401", "PR-1")
        await phone.send("YES")
        await phone.send(SECRET_WORDS)
        await phone.send("STOP")
    assert logs, "the journey should have logged something"
    dumped = repr(logs)
    for secret in (NUMBER, "7400900401", "07400 900401", SECRET_WORDS, research.headers["Authorization"]):
        assert secret not in dumped
    async with client.app[keys.DATABASE].transaction() as session:
        rows = (await session.exec(text("SELECT phone_hash, phone_encrypted FROM contact"))).all()  # type: ignore[call-overload]
    assert len(rows) == 1
    assert all("7400900401" not in str(value) for value in rows[0])


def test_vault_round_trip_and_binding() -> None:
    vault = PhoneVault(SECRET)
    token = vault.encrypt(NUMBER)
    assert vault.decrypt(token, vault.lookup_hash(NUMBER)) == NUMBER
    assert vault.encrypt(NUMBER) != token  # a fresh nonce each time
    assert vault.lookup_hash(NUMBER) == PhoneVault(SECRET).lookup_hash(NUMBER)
    with pytest.raises(SecretKeyError):
        vault.decrypt(token, vault.lookup_hash("+447400900402"))  # moved to another row
    with pytest.raises(SecretKeyError):
        PhoneVault(SECRET + "-rotated").decrypt(token, vault.lookup_hash(NUMBER))
    with pytest.raises(SecretKeyError, match="at least 32"):
        PhoneVault("short")
