"""Notify's callbacks in the real app: nothing without the bearer token, once per id, receipts by reference."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlmodel import col, func, select
from structlog.testing import capture_logs

from consentbot import keys
from consentbot.app import create_app
from consentbot.channels.notify import INBOUND_PATH, STATUS_PATH, ReceiptStatus
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.tables import Contact, InboundMessage, OutboxMessage
from consentbot.testkit.notify import CALLBACK_TOKEN, FakeNotify, delivery_receipt, received_text
from tests.conftest import AppClient, settle
from tests.support.journey import ResearchSystem
from tests.support.notify_phone import NotifyPhone, notify_settings

PHONE = "+447400900301"


@pytest.fixture
def notify() -> FakeNotify:
    return FakeNotify()


@pytest.fixture
async def notify_client(
    settings: Settings,
    clock: ManualClock,
    notify: FakeNotify,
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> AppClient:
    api = await aiohttp_server(notify.app())
    configured = notify_settings(settings, notify, str(api.make_url("")))
    client = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    notify.callback_base = str(client.make_url(""))
    return client


async def count(client: AppClient, table: type[Contact] | type[InboundMessage]) -> int:
    async with client.app[keys.DATABASE].read() as session:
        return (await session.exec(select(func.count()).select_from(table))).one()


async def outbox(client: AppClient) -> list[OutboxMessage]:
    async with client.app[keys.DATABASE].read() as session:
        return list(
            (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        )


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", f"Bearer {CALLBACK_TOKEN[:-1]}", f"Bearer {CALLBACK_TOKEN}x",
     CALLBACK_TOKEN, f"Basic {CALLBACK_TOKEN}", f"bearer {CALLBACK_TOKEN}"],
)  # fmt: skip
async def test_callbacks_without_the_bearer_token_are_401_and_change_nothing(
    notify_client: AppClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    body = received_text(PHONE, "JOINTS", message_id="n-1")
    with capture_logs() as logs:
        inbound = await notify_client.post(INBOUND_PATH, json=body, headers=headers)
        status = await notify_client.post(
            STATUS_PATH,
            json={"id": "n-1", "reference": "r", "status": "delivered"},
            headers=headers,
        )
    for response in (inbound, status):
        assert response.status == 401
        assert await response.text() == ""
    assert await count(notify_client, Contact) == 0
    assert await count(notify_client, InboundMessage) == 0
    assert PHONE.removeprefix("+") not in repr(logs)
    # The same callback with the token is handled: the refusal above was about the token.
    good = await notify_client.post(
        INBOUND_PATH, json=body, headers={"Authorization": f"Bearer {CALLBACK_TOKEN}"}
    )
    assert good.status == 204
    assert await count(notify_client, InboundMessage) == 1


async def test_a_repeated_received_text_is_handled_once(
    notify_client: AppClient, notify: FakeNotify
) -> None:
    phone = NotifyPhone(notify, PHONE)
    message_id = await phone.send("JOINTS")
    await settle(notify_client.app)
    first = await phone.receive()
    assert len(first) >= 1
    # Notify retries a callback it thinks failed: same id, same text.
    await phone.send("JOINTS", message_id=message_id)
    await settle(notify_client.app)
    assert await phone.receive() == []
    assert await count(notify_client, InboundMessage) == 1
    # The number arrived as Notify writes it (447400900301) and was read as +447400900301.
    assert [a.phone_number for a in first] == [PHONE] * len(first)


async def test_delivery_receipts_are_recorded_on_the_outbox_row_by_reference(
    notify_client: AppClient, notify: FakeNotify
) -> None:
    research = await ResearchSystem.register(notify_client)
    await research.invite(PHONE, "NO-1")
    await settle(notify_client.app)
    [row] = await outbox(notify_client)
    [accepted] = notify.accepted
    assert row.status == "sent"
    assert row.provider_id == accepted.id
    assert accepted.reference == row.reference

    assert await notify.send_receipt(accepted, ReceiptStatus.TEMPORARY_FAILURE) == 204
    [row] = await outbox(notify_client)
    assert row.delivery_status == "temporary-failure"
    # A later receipt does not move a final status backwards or sideways.
    assert await notify.send_receipt(accepted, ReceiptStatus.DELIVERED) == 204
    [row] = await outbox(notify_client)
    assert row.delivery_status == "temporary-failure"


async def test_a_receipt_for_a_message_that_is_not_ours_changes_nothing(
    notify_client: AppClient, notify: FakeNotify
) -> None:
    research = await ResearchSystem.register(notify_client)
    await research.invite(PHONE, "NO-2")
    await settle(notify_client.app)
    [accepted] = notify.accepted
    headers = notify.callback_headers()
    for reference in (None, "0" * 32):
        receipt = delivery_receipt(accepted, ReceiptStatus.DELIVERED) | {"reference": reference}
        response = await notify_client.post(STATUS_PATH, json=receipt, headers=headers)
        assert response.status == 204
    [row] = await outbox(notify_client)
    assert row.delivery_status is None


BAD_BODIES: list[tuple[str, Any, str]] = [
    (INBOUND_PATH, "not json", "the body is not JSON"),
    (INBOUND_PATH, [], "the body must be a JSON object"),
    (INBOUND_PATH, {"source_number": "447400900301", "message": "YES"}, "id is required"),
    (INBOUND_PATH, {"id": "n-9", "message": "YES"}, "source_number is required"),
    (INBOUND_PATH, {"id": "n-9", "source_number": 447400900301, "message": "YES"},
     "source_number is required"),
    (INBOUND_PATH, {"id": "n-9", "source_number": "447400900301"}, "message is required"),
    (STATUS_PATH, "{", "the body is not JSON"),
    (STATUS_PATH, {"reference": "r", "status": "delivered"}, "id is required"),
    (STATUS_PATH, {"id": "n", "reference": "r", "status": "sent-by-pigeon"},
     "status must be one of delivered, permanent-failure, temporary-failure, technical-failure"),
    (STATUS_PATH, {"id": "n", "reference": 7, "status": "delivered"},
     "reference must be a string or null"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "error"), BAD_BODIES)
async def test_a_malformed_callback_is_400_with_a_clear_error_and_changes_nothing(
    notify_client: AppClient, notify: FakeNotify, path: str, body: Any, error: str
) -> None:
    raw = body if isinstance(body, str) else json.dumps(body)
    response = await notify_client.post(
        path, data=raw, headers=notify.callback_headers() | {"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["error"].startswith(error)
    assert await count(notify_client, Contact) == 0
    assert await count(notify_client, InboundMessage) == 0


async def test_notifys_other_receipt_fields_are_tolerated(
    notify_client: AppClient, notify: FakeNotify
) -> None:
    research = await ResearchSystem.register(notify_client)
    await research.invite(PHONE, "NO-3")
    await settle(notify_client.app)
    [accepted] = notify.accepted
    receipt = delivery_receipt(accepted, ReceiptStatus.PERMANENT_FAILURE) | {
        "cost_in_pounds": 0.0197,
        "is_cost_data_ready": True,
    }
    response = await notify_client.post(
        STATUS_PATH, json=receipt, headers=notify.callback_headers()
    )
    assert response.status == 204
    [row] = await outbox(notify_client)
    assert row.delivery_status == "permanent-failure"
