"""Handle one inbound SMS: it goes through the turn pipeline, once per gateway message id."""

from __future__ import annotations

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.channels.gateway import InboundSms
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.services.deps import ServiceDeps
from consentbot.services.pipeline import BySms, FromNumber, Outcome, Said, TurnPipeline
from consentbot.store.phones import PhoneNumberError, to_e164

log = structlog.get_logger(__name__)


class InboundService:
    """The consent service's entry point for messages people send."""

    def __init__(self, deps: ServiceDeps, pipeline: TurnPipeline) -> None:
        self.deps = deps
        self.pipeline = pipeline

    async def handle(self, message: InboundSms) -> None:
        """Process ``message`` once; a repeated gateway message id changes nothing."""
        deps = self.deps
        try:
            e164 = to_e164(message.sender, deps.default_region)
        except PhoneNumberError:
            log.warning("inbound.unreadable_sender", gateway=message.gateway)
            return
        # The gateway authenticated the delivery, so the sender is the phone that sent it.
        provenance = Provenance(Channel.sms(message.gateway), "participant", Auth.SMS)
        now = deps.clock()

        async def turn(session: AsyncSession) -> Outcome:
            return await self.pipeline.run(
                session,
                FromNumber(e164, (message.gateway, message.gateway_message_id)),
                Said(message.text),
                provenance,
                BySms(),
                now,
            )

        # Turns of different people arriving together share one transaction on SQLite.
        outcome = await deps.db.grouped(turn)
        if outcome.sms_queued:
            deps.on_outbox()
