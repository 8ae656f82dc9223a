"""The person's receipts on the web: only once their number is checked, in their language,
each downloadable as the signed JSON."""

from __future__ import annotations

import html
from datetime import timedelta

from consentbot import keys
from consentbot.domain.receipt import verify_receipt
from consentbot.services.clock import ManualClock
from tests.conftest import AppClient, settle
from tests.receipts.support import Texter, public_key, reference_in
from tests.receipts.test_sms import confirmed
from tests.support.journey import PURPOSES, STUDY, translator
from tests.support.twilio_fake import FakeTwilio
from tests.web.conftest import Browser

PAGE = f"/s/{STUDY}/receipts"


async def test_receipts_are_shown_only_after_the_number_is_checked(
    web_client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    number = "+447400900821"
    person = Texter(web_client, fake_twilio, clock, number, "P-0821")
    reference = reference_in(await confirmed(person, "pl"))
    assert reference is not None
    download = f"{PAGE}/{reference}.json"

    # Before: a visitor, however they got here, sees and downloads nothing.
    stranger = Browser(web_client, language="pl")
    await stranger.open(PAGE)
    assert stranger.status == 403
    assert reference not in stranger.page
    refused = await web_client.get(download, headers={"Accept-Language": "pl"})
    assert refused.status == 403
    assert await refused.text() == translator("pl").gettext(
        "To see your receipts, first check your mobile number on the study's page."
    )

    # After checking the number with a texted code: the list, in Polish.
    browser = Browser(web_client, language="pl")
    await browser.open()
    await browser.verify(number, fake_twilio, lambda: settle(web_client.app))
    assert f'href="{PAGE}"' in await browser.open()  # the chat page links to them
    page = html.unescape(await browser.open(PAGE))
    assert browser.status == 200
    assert browser.headers["Cache-Control"] == "no-store"
    assert '<html lang="pl"' in page
    assert reference in page
    assert "2 grudnia 2026" in page  # issued 2 December 2026, as Polish writes it
    study = web_client.app[keys.STUDIES].get(STUDY)
    assert study is not None
    yes = translator("pl").gettext("yes")
    for purpose in PURPOSES:
        assert f"{study.text('pl').purposes[purpose].title}: {yes}" in page

    response = await web_client.get(download)
    assert response.status == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{reference}.json"'
    document = await response.json()
    verify_receipt(document, public_key(web_client))
    assert document["header"]["consentReceiptID"] == reference
    missing = await web_client.get(f"{PAGE}/R-0000-0000.json")
    assert missing.status == 404
    assert await missing.text() == "Nie masz pokwitowania o tym numerze."


async def test_a_person_sees_only_their_own_receipts(
    web_client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    theirs = Texter(web_client, fake_twilio, clock, "+447400900822", "P-0822")
    reference = reference_in(await confirmed(theirs, "en"))
    assert reference is not None
    mine = Texter(web_client, fake_twilio, clock, "+447400900823", "P-0823")
    await mine.invited()
    browser = Browser(web_client)
    await browser.open()
    await browser.verify("+447400900823", fake_twilio, lambda: settle(web_client.app))
    page = await browser.open(PAGE)
    assert browser.status == 200
    assert "You have no receipts yet" in html.unescape(page)
    assert (await web_client.get(f"{PAGE}/{reference}.json")).status == 404

    # Confirming in the web chat: the reply on the page carries the receipt's reference.
    await browser.open()
    for _ in range(6):
        await browser.say("YES")
    clock.advance(timedelta(days=1, minutes=1))
    await settle(web_client.app)
    await browser.open()
    reply = await browser.say("CONFIRM")
    own = reference_in(reply)
    assert own is not None
    assert reply.endswith(f"Your receipt: {own}")
    page = await browser.open(PAGE)
    assert own in page
    assert reference not in page

