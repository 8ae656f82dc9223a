"""Rotating the secret key while people keep texting: before, during and after, and with only the new key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestServer
from sqlmodel import col, func, select

from consentbot import keys
from consentbot.app import create_app
from consentbot.domain.staff import StaffRole
from consentbot.services.clock import ManualClock
from consentbot.services.key_rotation import BatchDone, KeyRotation
from consentbot.settings import Settings
from consentbot.store.crypto import PhoneVault, key_id_of, stored_key_id
from consentbot.store.database import Database
from consentbot.store.rekeying import (
    CONTACT_PHONES,
    OUTBOX_SECRETS,
    STAFF_TOTP,
    VERIFICATION_PHONES,
)
from consentbot.store.staff_accounts import totp_aad
from consentbot.store.tables import (
    Contact,
    OutboxMessage,
    Participant,
    PhoneVerification,
    StaffUser,
)
from tests.conftest import SECRET, AppClient, settle
from tests.support.journey import ResearchSystem, link_in
from tests.support.outbox import filled_secret
from tests.support.twilio_fake import FakeTwilio, TwilioPhone
from tests.web.conftest import Browser

OLD = SECRET
NEW = "the-new-secret-key-after-rotation-0123456789"
NUMBERS = ("+447400123401", "+447400123402", "+447400123403")
LATE = "+447400123404"
"""Invited under the old key; the invitation (with its link) waits in the outbox."""

MakeClient = Callable[..., Awaitable[AppClient]]


async def app_with(
    aiohttp_client: MakeClient,
    settings: Settings,
    clock: ManualClock,
    twilio_server: TestServer,
    secret: str,
    previous: tuple[str, ...] = (),
) -> AppClient:
    """The service on the same database, started with these keys."""
    configured = settings.with_(
        secret_key=secret,
        previous_secret_keys=previous,
        twilio_api_base=str(twilio_server.make_url("")).rstrip("/"),
    )
    return await aiohttp_client(create_app(configured, clock=clock, run_background=False))


async def count(client: AppClient, table: type[Contact] | type[Participant]) -> int:
    async with client.app[keys.DATABASE].read() as session:
        total: int = (await session.exec(select(func.count()).select_from(table))).one()
        return total


async def test_people_are_recognised_before_during_and_after_rotation(
    client: AppClient,
    settings: Settings,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    twilio_server: TestServer,
    aiohttp_client: MakeClient,
) -> None:
    # Under the old key only, as the service ran until now.
    research = await ResearchSystem.register(client)
    for index, number in enumerate(NUMBERS):
        await research.invite(number, f"R-{index}")
    await settle(client.app)
    for number in NUMBERS:
        await TwilioPhone(client, fake_twilio, number).send("YES")  # the questions start
    await research.invite(LATE, "R-LATE")

    # Restarted with the new key current and the old one previous.
    both = await app_with(aiohttp_client, settings, clock, twilio_server, NEW, (OLD,))
    research = ResearchSystem(both, research.headers["Authorization"].removeprefix("Bearer "))
    first, second, third = (TwilioPhone(both, fake_twilio, number) for number in NUMBERS)
    await first.send("YES")  # found by its hash under the old key
    assert (await research.consent("R-0"))["records-research"] == "pending"

    seen: list[BatchDone] = []

    async def between_batches(done: BatchDone) -> None:
        seen.append(done)
        if len(seen) != 1:
            return
        # The first contact is under the new key, the others still under the old one.
        async with both.app[keys.DATABASE].read() as session:
            rows = (await session.exec(select(Contact).order_by(col(Contact.id)))).all()
        assert [stored_key_id(row.phone_encrypted) for row in rows[:3]] == [
            key_id_of(NEW),
            key_id_of(OLD),
            key_id_of(OLD),
        ]
        await first.send("NO")
        await third.send("YES")
        assert (await research.consent("R-0"))["social-care-linkage"] == "declined"
        assert (await research.consent("R-2"))["records-research"] == "pending"

    vault = PhoneVault(NEW, [OLD])
    rotation = KeyRotation(both.app[keys.DATABASE], vault, batch_size=1, after_batch=between_batches)
    report = await rotation.rotate()
    assert report.problems == []
    assert report.rewritten[CONTACT_PHONES] == 4
    assert report.rewritten[OUTBOX_SECRETS] == 1  # the late invitation's link
    assert [done.column for done in seen][:4] == [CONTACT_PHONES] * 4
    assert {count.key_id for count in await rotation.status()} == {key_id_of(NEW)}

    await second.send("YES")  # after rotation, with both keys
    assert (await research.consent("R-1"))["records-research"] == "pending"
    again = await rotation.rotate()  # nothing left: nothing done
    assert sum(again.rewritten.values()) == 0

    # Restarted with only the new key: the numbers are still found and texted.
    only_new = await app_with(aiohttp_client, settings, clock, twilio_server, NEW)
    research = ResearchSystem(only_new, research.headers["Authorization"].removeprefix("Bearer "))
    fake_twilio.inbox.clear()
    await TwilioPhone(only_new, fake_twilio, NUMBERS[0]).send("YES")
    await TwilioPhone(only_new, fake_twilio, NUMBERS[2]).send("NO")
    await settle(only_new.app)
    assert (await research.consent("R-0"))["commercial-partner"] == "pending"
    assert (await research.consent("R-2"))["social-care-linkage"] == "declined"
    assert fake_twilio.inbox[NUMBERS[0]], "the reply went to the number decrypted with the new key"
    assert fake_twilio.inbox[NUMBERS[2]]
    # The invitation queued under the old key goes with its link intact.
    async with only_new.app[keys.DATABASE].read() as session:
        statement = select(OutboxMessage).where(OutboxMessage.kind == "invitation")
        sent = [row for row in (await session.exec(statement)).all() if row.participant_id == 4]
    texts = fake_twilio.inbox[LATE]
    assert link_in(texts[-1]) in {filled_secret(row.body, text) for row in sent for text in texts}
    assert await count(only_new, Contact) == 4
    assert await count(only_new, Participant) == 4


async def test_a_code_asked_for_before_rotation_still_links_after_it(
    web_client: AppClient,
    settings: Settings,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    twilio_server: TestServer,
    aiohttp_client: MakeClient,
) -> None:
    old_browser = Browser(web_client)
    await old_browser.open()
    await old_browser.post("verify", phone="07400 123405")
    await settle(web_client.app)
    (text,) = fake_twilio.inbox["+447400123405"]
    code = text.split("your code is ")[1][:6]

    both = await app_with(aiohttp_client, settings, clock, twilio_server, NEW, (OLD,))
    report = await KeyRotation(both.app[keys.DATABASE], PhoneVault(NEW, [OLD])).rotate()
    assert (report.rewritten[CONTACT_PHONES], report.rewritten[VERIFICATION_PHONES]) == (1, 0)
    async with both.app[keys.DATABASE].read() as session:
        (contact,) = (await session.exec(select(Contact))).all()
        (verification,) = (await session.exec(select(PhoneVerification))).all()
    # The verification moved with its contact, in the same transaction.
    assert verification.phone_hash == contact.phone_hash == PhoneVault(NEW).lookup_hash("+447400123405")
    assert stored_key_id(verification.phone_encrypted) == key_id_of(NEW)

    browser = Browser(both)
    for cookie in web_client.session.cookie_jar:
        both.session.cookie_jar.update_cookies({cookie.key: cookie.value})
    await browser.open()
    await browser.post("verify/code", code=code)
    assert "Your number is checked" in browser.page


async def test_staff_authenticator_secrets_move_to_the_new_key(database_url: str, clock: ManualClock) -> None:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            user = StaffUser(email="ada@example.org", role=StaffRole.ADMIN, created_at=clock())
            session.add(user)
            await session.flush()
            assert user.id is not None
            user.totp_secret_encrypted = PhoneVault(OLD).seal_secret("JBSWY3DPEHPK3PXP", totp_aad(user.id))
        both = PhoneVault(NEW, [OLD])
        assert [(c.column, c.key_id) for c in await KeyRotation(db, both).status() if c.column == STAFF_TOTP] == [
            (STAFF_TOTP, key_id_of(OLD))
        ]
        report = await KeyRotation(db, both).rotate()
        assert report.rewritten[STAFF_TOTP] == 1
        assert report.problems == []
        async with db.read() as session:
            stored = (await session.exec(select(StaffUser))).one()
        assert stored.totp_secret_encrypted is not None
        assert stored.id is not None
        assert stored_key_id(stored.totp_secret_encrypted) == key_id_of(NEW)
        # Only the new key is needed now.
        assert PhoneVault(NEW).open_secret(stored.totp_secret_encrypted, totp_aad(stored.id)) == "JBSWY3DPEHPK3PXP"
    finally:
        await db.dispose()
