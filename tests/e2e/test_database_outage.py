"""With the database gone, webhooks answer 503 with Retry-After; the gateway's retry counts once.

PostgreSQL goes away behind a TCP relay the test cuts (open connections break, new ones
are refused); SQLite's file goes away with its folder (a volume unmounted) after the pool
lost its connections.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse
from sqlalchemy import event
from sqlmodel import func, select
from structlog.testing import capture_logs

from consentbot import keys
from consentbot.channels.twilio_signature import compute_signature
from consentbot.store.tables import (
    ConsentEvent,
    Contact,
    InboundMessage,
    OutboxMessage,
    Participant,
)
from tests.conftest import AppClient, settle
from tests.support.journey import STUDY, ResearchSystem
from tests.support.outage import Outage
from tests.support.twilio_fake import AUTH_TOKEN, PUBLIC_URL, SERVICE_NUMBER, FakeTwilio

PHONE = "+447400123458"
SID = "SM" + "5" * 32


async def text_in(client: AppClient, body: str) -> ClientResponse:
    """Twilio's signed webhook for one message, always with the same MessageSid (a retry)."""
    params = {"MessageSid": SID, "From": PHONE, "To": SERVICE_NUMBER, "Body": body, "NumMedia": "0"}
    signature = compute_signature(AUTH_TOKEN, f"{PUBLIC_URL}/sms/twilio/inbound", params)
    return await client.post(
        "/sms/twilio/inbound", data=params, headers={"X-Twilio-Signature": signature}
    )


async def stored(client: AppClient) -> dict[str, int]:
    """How many rows each table the inbound turn writes holds."""
    counts = {}
    async with client.app[keys.DATABASE].read() as session:
        for table in (Contact, InboundMessage, Participant, ConsentEvent, OutboxMessage):
            query = select(func.count()).select_from(table)
            counts[str(table.__tablename__)] = (await session.exec(query)).one()
    return counts


NOTHING = {"contact": 0, "inbound_message": 0, "participant": 0, "consent_event": 0, "outbox": 0}


async def retried_until_handled_once(client: AppClient, fake_twilio: FakeTwilio) -> None:
    """The gateway's retry is handled; a duplicate of it changes nothing; one reply goes out."""
    response = await text_in(client, "JOINTS")
    assert response.status == 200, await response.text()
    await settle(client.app)
    after_retry = await stored(client)
    assert after_retry["inbound_message"] == after_retry["contact"] == 1
    assert after_retry["outbox"] >= 1
    replies = list(fake_twilio.inbox[PHONE])
    assert len(replies) == after_retry["outbox"]
    duplicate = await text_in(client, "JOINTS")
    assert duplicate.status == 200
    await settle(client.app)
    assert await stored(client) == after_retry
    assert fake_twilio.inbox[PHONE] == replies


async def test_webhooks_get_503_while_the_database_is_away_and_the_retry_counts_once(
    outage: Outage, fake_twilio: FakeTwilio
) -> None:
    client = outage.client
    research = await ResearchSystem.register(client)
    await outage.begin()
    with capture_logs() as logs:
        webhook = await text_in(client, "JOINTS")
        api = await client.get(f"/api/v1/studies/{STUDY}/participants", headers=research.headers)
        page = await client.get(f"/s/{STUDY}", headers={"Cookie": "consentbot_session=returning"})
        reading = await client.get(f"/s/{STUDY}")
    assert webhook.status == 503
    assert webhook.headers["Retry-After"] == "30"
    assert "try again" in await webhook.text()
    assert api.status == 503
    assert api.headers["Retry-After"] == "30"
    assert "retry later" in (await api.json())["error"]
    assert page.status == 503
    assert page.headers["Content-Security-Policy"]  # still a response of ours, headers and all
    # Reading a study needs no database at all: a first visit still gets the whole page.
    assert reading.status == 200
    assert "Northern Pennines Joint Health Records" in await reading.text()
    unavailable = [log for log in logs if log["event"] == "database.unavailable"]
    assert [log["path"] for log in unavailable] == [
        "/sms/twilio/inbound",
        f"/api/v1/studies/{STUDY}/participants",
        f"/s/{STUDY}",
    ]
    assert all("exc_info" not in log and log["error"] for log in unavailable)  # types, no traceback
    await outage.end()
    assert await stored(client) == NOTHING | {"contact": 0}
    await retried_until_handled_once(client, fake_twilio)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_connection_lost_mid_transaction_leaves_nothing_half_written(
    outage: Outage, fake_twilio: FakeTwilio
) -> None:
    """The link breaks after the turn's first writes (contact, inbound id, ledger), at its outbox row."""
    client = outage.client
    proxy = outage.proxy
    assert proxy is not None
    engine = client.app[keys.DATABASE].engine.sync_engine
    cuts: list[str] = []

    def cut_at_the_outbox(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO outbox") and not cuts:
            cuts.append(statement)
            proxy.cut()

    event.listen(engine, "before_cursor_execute", cut_at_the_outbox)
    try:
        response = await text_in(client, "JOINTS")
    finally:
        event.remove(engine, "before_cursor_execute", cut_at_the_outbox)
    assert cuts, "the turn never reached its outbox row"
    assert response.status == 503
    assert response.headers["Retry-After"] == "30"
    await outage.end()
    assert await stored(client) == NOTHING
    await retried_until_handled_once(client, fake_twilio)
