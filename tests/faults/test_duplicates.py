"""Gateways deliver twice and out of order: webhooks retried, raced, reordered.

Twilio retries a webhook it got no answer to, and neither its webhooks nor its status
callbacks promise an order. Every test here delivers the same thing more than once, or
in another order than it was sent, and checks what ends up stored.
"""

from __future__ import annotations

import asyncio

from consentbot.domain.outbox import OutboxStatus
from tests.conftest import AppClient, settle
from tests.faults.records import Records
from tests.support.twilio_fake import FakeTwilio, TwilioPhone, signature_headers

STATUS_PATH = "/sms/twilio/status"


async def asked_first_question(client: AppClient, fake_twilio: FakeTwilio, number: str) -> TwilioPhone:
    """A person who joined by keyword and is being asked the first (required) question."""
    phone = TwilioPhone(client, fake_twilio, number)
    await phone.send("JOINTS")
    await phone.send("YES")
    await settle(client.app)
    assert "Question 1 of 5" in phone.text()
    return phone


async def test_the_same_webhook_delivered_at_once_and_again_later_is_handled_once(
    client: AppClient, fake_twilio: FakeTwilio
) -> None:
    """Promise: inbound handling is idempotent on the gateway's message id, also when the
    copies race each other (the first message of a new number included)."""
    records = Records.of(client.app)
    phone = TwilioPhone(client, fake_twilio, "+447400123456")
    sids = ["SM" + "a" * 32, "SM" + "b" * 32, "SM" + "c" * 32]
    await asyncio.gather(*(phone.send("JOINTS", sid=sids[0]) for _ in range(3)))
    await phone.send("YES", sid=sids[1])
    await asyncio.gather(*(phone.send("YES", sid=sids[2]) for _ in range(3)))
    await settle(client.app)
    invitation, first_question, second_question = phone.new_messages()
    assert "Reply MORE to read more" in invitation
    assert "Question 1 of 5" in first_question
    assert "Question 2 of 5" in second_question

    for sid, text in zip(sids, ["JOINTS", "YES", "YES"], strict=True):
        await phone.send(text, sid=sid)  # a gateway retrying long after
    await settle(client.app)
    assert phone.new_messages() == []
    assert sorted(await records.inbound_message_ids()) == sids
    assert await records.transitions(phone.number) == [("records-research", "none", "pending")]
    assert await records.ledger_findings() == []


async def test_two_messages_delivered_in_reverse_order_are_each_handled_once(
    client: AppClient, fake_twilio: FakeTwilio
) -> None:
    """Promise: each message is handled once, in the order it arrives, by the consent rules:
    the NO meant for question 2 arrives first and answers the required question 1, which
    declines the study; the late YES only starts the questions again. Nothing is pending."""
    records = Records.of(client.app)
    phone = await asked_first_question(client, fake_twilio, "+447400123457")
    sent_first, sent_second = "SM" + "1" * 32, "SM" + "2" * 32
    await phone.send("NO", sid=sent_second)
    await phone.send("YES", sid=sent_first)
    await phone.send("NO", sid=sent_second)  # and a retry of one of them
    await settle(client.app)
    declined, asked_again = phone.new_messages()
    assert "said no to taking part" in declined
    assert "Question 1 of 5" in asked_again
    assert await records.transitions(phone.number) == [("records-research", "none", "declined")]
    assert await records.consent(phone.number) == {"records-research": "declined"}
    assert await records.ledger_findings() == []


async def test_two_messages_from_one_person_racing_are_handled_one_after_the_other(
    client: AppClient, fake_twilio: FakeTwilio
) -> None:
    """Promise: messages from one number never interleave (its contact row is locked):
    the outcome is that of one order or the other, each message handled once."""
    records = Records.of(client.app)
    phone = await asked_first_question(client, fake_twilio, "+447400123458")
    await asyncio.gather(phone.send("YES"), phone.send("NO"))
    await settle(client.app)
    yes_first = [
        ("records-research", "none", "pending"),
        ("social-care-linkage", "none", "declined"),
    ]
    no_first = [("records-research", "none", "declined")]
    assert await records.transitions(phone.number) in (yes_first, no_first)
    assert len(phone.new_messages()) == 2
    assert len(await records.inbound_message_ids()) == 4
    assert await records.ledger_findings() == []


async def post_status(client: AppClient, provider_id: str, status: str) -> None:
    params = {"MessageSid": provider_id, "MessageStatus": status, "AccountSid": "AC1"}
    response = await client.post(
        STATUS_PATH, data=params, headers=signature_headers(STATUS_PATH, params)
    )
    assert response.status in (200, 204), await response.text()


async def test_status_callbacks_duplicated_and_reordered_never_move_a_status_back(
    client: AppClient, fake_twilio: FakeTwilio
) -> None:
    """Promise: a message's delivery status only moves forward (queued, sending, sent,
    delivered), whatever order and however often Twilio's callbacks arrive."""
    phone = TwilioPhone(client, fake_twilio, "+447400123459")
    await phone.send("HELP")
    await settle(client.app)
    records = Records.of(client.app)
    (row,) = await records.outbox(phone.number)
    assert row.provider_id is not None
    await asyncio.gather(
        *(post_status(client, row.provider_id, s) for s in ["sent", "delivered", "queued"])
    )
    for status in ["delivered", "sent", "delivered", "queued", "sending"]:
        await post_status(client, row.provider_id, status)
    (row,) = await records.outbox(phone.number)
    assert (row.status, row.delivery_status) == (OutboxStatus.SENT, "delivered")
