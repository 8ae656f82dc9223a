"""Each turn that gives, changes or withdraws consent texts a receipt reference, in the
person's language; the study reads the same receipts from the API, signed."""

from __future__ import annotations

import json
from datetime import timedelta

from consentbot.conversation.vocabulary import Command
from consentbot.services.clock import ManualClock
from tests.conftest import AppClient, each_language_then_postgres
from tests.receipts.support import Texter, receipt_line, reference_in
from tests.support.journey import PURPOSES, STUDY, words
from tests.support.twilio_fake import FakeTwilio


async def confirmed(person: Texter, language: str) -> str:
    """Invite, answer yes to everything, wait out cooling-off, CONFIRM: the CONFIRM reply."""
    w = words(language)
    await person.invited(language)
    answers = await person.say(*[w.word(Command.YES)] * (1 + len(PURPOSES)))
    assert reference_in(answers) is None  # a yes still cooling off gets its receipt at CONFIRM
    person.clock.advance(timedelta(days=1, minutes=1))
    await person.say()  # the reminder
    return await person.say(w.word(Command.CONFIRM))


@each_language_then_postgres(["en", "pl"], on_postgres="pl")
async def test_confirm_change_and_withdraw_each_text_a_signed_receipt(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, language: str
) -> None:
    w = words(language)
    person = Texter(client, fake_twilio, clock, "+447400900801", "P-0801")
    reply = await confirmed(person, language)
    first = reference_in(reply)
    assert first is not None
    assert reply.endswith(receipt_line(language, first))

    # CHANGE: a no to a purpose agreed to is a withdrawal, with its own receipt.
    await person.say(w.word(Command.CHANGE))
    assert reference_in(await person.say(w.word(Command.YES))) is None  # still yes: no change
    narrowed = await person.say(w.word(Command.NO))
    second = reference_in(narrowed)
    assert second is not None
    assert receipt_line(language, second) in narrowed

    withdrawn = await person.say(w.word(Command.WITHDRAW))
    third = reference_in(withdrawn)
    assert third is not None
    assert receipt_line(language, third) in withdrawn
    assert len({first, second, third}) == 3
    # Nothing to withdraw any more: nothing changed, no receipt.
    assert reference_in(await person.say(w.word(Command.WITHDRAW))) is None

    receipts = await person.receipts()
    assert [r["reference"] for r in receipts] == [third, second, first]
    by_reference = {r["reference"]: r["receipt"] for r in receipts}

    def changed(reference: str) -> dict[str, str]:
        [service] = by_reference[reference]["processing"]["services"]
        return {p["purpose"]: p["status"] for p in service["purposes"] if p["changed"]}

    assert changed(first) == dict.fromkeys(PURPOSES, "active")
    assert changed(second) == {"social-care-linkage": "withdrawn"}
    assert changed(third) == dict.fromkeys(set(PURPOSES) - {"social-care-linkage"}, "withdrawn")
    confirm_events = by_reference[first]["events"]
    assert [(e["purpose"], e["action"], e["to"]) for e in confirm_events] == [
        (purpose, "confirm", "active") for purpose in PURPOSES
    ]
    history = {e["hash"] for e in await person.research.history("P-0801")}  # type: ignore[union-attr]
    assert {e["hash"] for r in receipts for e in r["receipt"]["events"]} <= history
    for receipt in by_reference.values():
        assert receipt["parties"]["piiPrincipalId"] == "P-0801"
        assert receipt["header"]["language"] == language
        assert {e["collectionMethod"] for e in receipt["events"]} == {"sms:twilio"}
        assert "7400900801" not in json.dumps(receipt)  # the person is their reference only


async def test_the_receipts_api_needs_the_studys_token_and_knows_the_participant(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    person = Texter(client, fake_twilio, clock, "+447400900802", "P-0802")
    await person.invited()
    assert await person.receipts() == []  # invited, nothing given yet
    path = f"/api/v1/studies/{STUDY}/participants/P-0802/receipts"
    assert (await client.get(path)).status == 401
    assert person.research is not None
    elsewhere = path.replace(STUDY, "other-study")
    assert (await client.get(elsewhere, headers=person.research.headers)).status == 403
    missing = await client.get(path.replace("P-0802", "P-9999"), headers=person.research.headers)
    assert missing.status == 404
    assert (await missing.json())["field"] == "reference"
