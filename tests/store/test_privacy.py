"""Phone numbers encrypted at rest and found by keyed hash; no number or text in logs;
no one-time code or personal link in clear anywhere at rest."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select
from structlog.testing import capture_logs

from consentbot import keys
from consentbot.domain.outbox import OutboxKind
from consentbot.store.crypto import PhoneVault, SecretKeyError
from consentbot.store.links import link_hash
from consentbot.store.outbox import SECRET_MARKER
from consentbot.store.tables import OutboxMessage
from tests.conftest import SECRET, AppClient, settle
from tests.support.journey import ResearchSystem, link_in
from tests.support.outbox import filled_secret
from tests.support.twilio_fake import FakeTwilio, TwilioPhone
from tests.web.conftest import Browser

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


INVITED = "+447400123456"
VERIFYING = "+447400123457"


async def stored_text(client: AppClient) -> dict[str, list[str]]:
    """Every non-null value of every column of every table, as text, by "table.column"."""
    found: dict[str, list[str]] = {}
    async with client.app[keys.DATABASE].read() as session:
        for table in SQLModel.metadata.sorted_tables:
            result = await session.exec(table.select())  # type: ignore[call-overload]
            for row in result.mappings():
                for column, value in row.items():
                    if value is not None:
                        found.setdefault(f"{table.name}.{column}", []).append(str(value))
    return found


def holding(stored: dict[str, list[str]], needle: str) -> list[str]:
    """The columns in which ``needle`` appears (not as part of a longer word: a six-digit
    code may turn up by chance inside a hex hash, which is no leak)."""
    pattern = re.compile(rf"(?<![0-9A-Za-z]){re.escape(needle)}(?![0-9A-Za-z])")
    return [column for column, values in stored.items() if any(pattern.search(v) for v in values)]


async def outbox_rows(client: AppClient) -> list[OutboxMessage]:
    async with client.app[keys.DATABASE].read() as session:
        return list((await session.exec(select(OutboxMessage))).all())


async def test_no_code_or_link_is_stored_in_clear_before_or_after_sending(
    web_client: AppClient, fake_twilio: FakeTwilio
) -> None:
    research = await ResearchSystem.register(web_client)
    invited = await research.invite("07400 123456", "PR-9")
    assert invited["link_sent"] is True  # the link itself goes only to the phone
    browser = Browser(web_client)
    await browser.open()
    await browser.post("verify", phone="07400 123457")
    assert 'id="code"' in browser.page

    queued = await stored_text(web_client)
    # The scan does see outbox bodies and link hashes: it would see a secret there too.
    assert "outbox.body" in holding(queued, SECRET_MARKER)
    pending = await outbox_rows(web_client)
    assert {row.kind for row in pending if row.secret_encrypted} == {
        OutboxKind.INVITATION,
        OutboxKind.VERIFICATION,
    }

    await settle(web_client.app)
    received = {number: fake_twilio.inbox[number] for number in (INVITED, VERIFYING)}
    (code_text,) = received[VERIFYING]
    code = re.search(r"\b(\d{6})\b", code_text)
    assert code is not None
    link = link_in("".join(received[INVITED]))
    token = link.rsplit("/i/", 1)[1]
    # Before sending, the only trace of the link was its hash.
    assert holding(queued, link_hash(token)) == ["invitation_link.token_hash"]
    assert holding(queued, token) == []
    # What reached the phones is exactly the stored body with the secret put back.
    secrets_filled = {
        filled_secret(row.body, sent)
        for row in await outbox_rows(web_client)
        for sent in received[INVITED if row.kind is OutboxKind.INVITATION else VERIFYING]
        if filled_secret(row.body, sent)
    }
    assert secrets_filled == {link, code.group(1)}

    sent = await stored_text(web_client)
    for snapshot in (queued, sent):
        for secret in (token, code.group(1), INVITED[1:], VERIFYING[1:]):
            assert holding(snapshot, secret) == [], secret
    assert "outbox.secret_encrypted" not in sent, "a sent message keeps its secret"
    assert all(row.status == "sent" for row in await outbox_rows(web_client))

    # The code still works, and checking it stores nothing new in clear.
    await browser.post("verify/code", code=code.group(1))
    assert "Your number is checked" in browser.page
    assert holding(await stored_text(web_client), code.group(1)) == []
