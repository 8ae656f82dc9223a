"""What an operator sees on /metrics after real turns through the Twilio webhook."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlmodel import select

from consentbot import keys
from consentbot.app import create_app
from consentbot.channels.gateway import GatewayError, OutboundSms, OutcomeUnknown
from consentbot.domain.timers import TimerKind
from consentbot.domain.webhooks import DeliveryStatus
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.tables import Participant, Timer, Webhook, WebhookDelivery
from tests.conftest import AppClient, settle
from tests.operations.scrape import scrape, value
from tests.support.databases import SQLITE_ONLY
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

TWILIO = "sms:twilio"


async def test_an_sms_turn_is_counted_with_its_stages_its_replies_and_its_route(
    client: AppClient, fake_twilio: FakeTwilio
) -> None:
    phone = TwilioPhone(client, fake_twilio, "+447400900301")
    sid = await phone.send("JOINTS")
    await settle(client.app)
    replies = len(phone.new_messages())
    assert replies >= 1
    await phone.send("JOINTS", sid=sid)  # the gateway's retry of the same message
    response = await client.get("/metrics")
    text = await response.text()
    # Labels hold no number and no words of a message.
    assert "7400900301" not in text
    assert "JOINTS" not in text
    seen = await scrape(client)

    turns = "consentbot_turns_total"
    assert value(seen, turns, channel=TWILIO, trigger="message", outcome="handled") == 1
    assert value(seen, turns, channel=TWILIO, trigger="message", outcome="duplicate") == 1
    for stage in ("load", "decide", "store"):
        assert value(seen, "consentbot_turn_stage_seconds_count", stage=stage) == 1
    assert value(seen, "consentbot_sms_total", gateway="twilio", outcome="sent") == replies
    assert value(seen, "consentbot_gateway_send_seconds_count", gateway="twilio") == replies
    inbound = {"method": "POST", "route": "/sms/twilio/inbound"}
    assert value(seen, "consentbot_http_requests_total", status="200", **inbound) == 2
    assert value(seen, "consentbot_http_request_duration_seconds_count", **inbound) == 2
    assert value(seen, "consentbot_database_up") == 1
    assert value(seen, "consentbot_outbox_messages", state="due") == 0
    assert value(seen, "consentbot_outbox_oldest_due_age_seconds") == 0


async def test_gateway_refusals_are_counted_by_outcome(
    client: AppClient, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.reject_next = [21211]  # an invalid number: failed, never retried
    await TwilioPhone(client, fake_twilio, "+447400900302").send("JOINTS")
    await settle(client.app)
    fake_twilio.reject_next = [21610]  # STOP sent at the carrier
    await TwilioPhone(client, fake_twilio, "+447400900303").send("JOINTS")
    await settle(client.app)
    seen = await scrape(client)
    assert value(seen, "consentbot_sms_total", gateway="twilio", outcome="failed") >= 1
    assert value(seen, "consentbot_sms_total", gateway="twilio", outcome="opted_out") == 1


async def test_backlogs_and_their_ages_are_read_from_the_database_when_scraped(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await TwilioPhone(client, fake_twilio, "+447400900304").send("JOINTS")
    # Not dispatched yet: the reply waits in the outbox.
    async with client.app[keys.DATABASE].transaction() as session:
        participant = (await session.exec(select(Participant))).one()
        assert participant.id is not None
        due = clock()
        session.add(
            Timer(participant_id=participant.id, kind=TimerKind.LATER, due_at=due, created_at=due)
        )
        webhook = Webhook(study_id=participant.study_id, url="https://example.org/h", secret_encrypted="x", created_at=due)
        session.add(webhook)
        await session.flush()
        assert webhook.id is not None
        for index, attempt_at in enumerate((due, due + timedelta(hours=1))):
            session.add(
                WebhookDelivery(
                    webhook_id=webhook.id,
                    participant_id=participant.id,
                    message_id=f"msg_{index}",
                    body="{}",
                    status=DeliveryStatus.PENDING,
                    created_at=due,
                    next_attempt_at=attempt_at,
                )
            )
    clock.advance(timedelta(seconds=90))
    seen = await scrape(client)
    assert value(seen, "consentbot_outbox_messages", state="due") >= 1
    assert value(seen, "consentbot_outbox_oldest_due_age_seconds") == 90
    assert value(seen, "consentbot_timers_due") == 1
    assert value(seen, "consentbot_timer_lag_seconds") == 90
    assert value(seen, "consentbot_webhook_deliveries", state="due") == 1
    assert value(seen, "consentbot_webhook_deliveries", state="waiting") == 1
    assert value(seen, "consentbot_webhook_oldest_due_age_seconds") == 90
    await settle(client.app)  # the timer fires: a turn of its own, started by the scheduler
    after = await scrape(client)
    assert value(after, "consentbot_timers_due") == 0
    assert value(after, "consentbot_timer_lag_seconds") == 0
    assert value(after, "consentbot_outbox_messages", state="due") == 0
    timer_turn = {"channel": "scheduler", "trigger": "timer", "outcome": "handled"}
    assert value(after, "consentbot_turns_total", **timer_turn) == 1


@SQLITE_ONLY
async def test_requests_are_labelled_by_route_template_never_by_path(client: AppClient) -> None:
    """Paths carry personal link tokens; a 404's path could carry anything."""
    await client.get("/i/secret-link-token-abc")
    await client.get("/no/such/page/07400900305")
    text = await (await client.get("/metrics")).text()
    assert "secret-link-token-abc" not in text
    assert "07400900305" not in text
    seen = await scrape(client)
    link = {"method": "GET", "route": "/i/{token}"}
    assert value(seen, "consentbot_http_request_duration_seconds_count", **link) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(seen, "consentbot_http_requests_total", **unmatched) == 1


class SilentGateway:
    """A gateway whose answers never arrive: the first message may or may not have gone,
    then it refuses with a retryable error."""

    name = "silent"

    def __init__(self) -> None:
        self.calls = 0

    async def send(self, message: OutboundSms) -> str:
        self.calls += 1
        if self.calls == 1:
            raise OutcomeUnknown("silent: no answer")
        raise GatewayError("silent: busy", retryable=True, code="503")


@SQLITE_ONLY
async def test_unknown_and_retried_sends_are_counted_by_the_gateway_s_name(
    settings: Settings,
    clock: ManualClock,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> None:
    gateway = SilentGateway()
    app = create_app(settings, clock=clock, gateway=gateway, run_background=False)
    client = await aiohttp_client(app)
    phones = [TwilioPhone(client, FakeTwilio(), f"+4474009003{n}") for n in (21, 22)]
    for phone in phones:
        await phone.send("JOINTS")
        await settle(client.app)
    seen = await scrape(client)
    assert value(seen, "consentbot_sms_total", gateway="silent", outcome="unknown") == 1
    assert value(seen, "consentbot_sms_total", gateway="silent", outcome="retry") >= 1
    assert value(seen, "consentbot_gateway_send_seconds_count", gateway="silent") == gateway.calls
