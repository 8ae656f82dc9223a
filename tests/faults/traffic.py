"""Many patients texting at once through a gateway that retries, as Twilio does.

Each patient follows a script and texts one message at a time (a phone does not send
the next text before the last one went); the gateway posts each as a signed webhook and
posts it again, with the same MessageSid, until the service answers 2xx. What the
scripts must leave in the ledger is worked out here from the consent rules directly,
not by asking the engine, so the tests compare the service with an independent oracle.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from consentbot.channels.twilio import INBOUND_PATH
from tests.faults.records import Transition
from tests.support.journey import PURPOSES
from tests.support.twilio_fake import SERVICE_NUMBER, signature_headers

MAX_TRIES = 50
"""A gateway gives up eventually; so does a test whose service never recovers."""


@dataclass(frozen=True)
class Script:
    """What one patient texts: join by keyword, start the questions, answer each, maybe leave."""

    phone: str
    answers: tuple[bool, ...]
    """One answer per purpose, in the study's order; the first (required) is always yes."""
    withdraw: bool

    @property
    def texts(self) -> list[str]:
        """The messages, in the order the patient sends them."""
        answers = ["YES" if yes else "NO" for yes in self.answers]
        return ["JOINTS", "YES", *answers, *(["WITHDRAW"] if self.withdraw else [])]

    def transitions(self) -> list[Transition]:
        """The ledger these texts must produce: a yes is pending, a no is declined at once,
        and WITHDRAW withdraws every pending yes (a no stays declined)."""
        events = [
            (purpose, "none", "pending" if yes else "declined")
            for purpose, yes in zip(PURPOSES, self.answers, strict=True)
        ]
        if self.withdraw:
            events += [
                (purpose, "pending", "withdrawn")
                for purpose, yes in zip(PURPOSES, self.answers, strict=True)
                if yes
            ]
        return events


def scripts(count: int) -> list[Script]:
    """``count`` patients on valid UK mobiles, each answering differently; every third leaves."""
    return [
        Script(
            phone=f"+4474001234{number:02d}",
            answers=(True, *(bool(number >> bit & 1) for bit in range(len(PURPOSES) - 1))),
            withdraw=number % 3 == 0,
        )
        for number in range(count)
    ]


@dataclass
class Webhook:
    """One inbound SMS as Twilio posts it; the MessageSid is the same on every retry."""

    phone: str
    text: str
    sid: str = field(default_factory=lambda: f"SM{uuid.uuid4().hex}")
    acked: bool = False
    """The service answered 2xx at least once."""

    def form(self) -> dict[str, str]:
        return {
            "MessageSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.phone,
            "To": SERVICE_NUMBER,
            "Body": self.text,
            "NumMedia": "0",
        }


class Gateway:
    """Posts signed inbound webhooks to the service at ``base_url``."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.url = base_url.rstrip("/") + INBOUND_PATH

    async def post(self, hook: Webhook) -> bool:
        """Deliver ``hook`` once; True on a 2xx, False on any other answer or none."""
        form = hook.form()
        try:
            async with self.session.post(
                self.url, data=form, headers=signature_headers(INBOUND_PATH, form)
            ) as response:
                await response.read()
                accepted = 200 <= response.status < 300
        except (aiohttp.ClientError, TimeoutError):
            accepted = False
        hook.acked = hook.acked or accepted
        return accepted


class Traffic:
    """Every script walked at once through ``gateway``; ``between_tries`` paces the retries."""

    def __init__(
        self,
        gateway: Gateway,
        patients: list[Script],
        between_tries: Callable[[], Awaitable[object]],
    ) -> None:
        self.gateway = gateway
        self.conversations = [
            [Webhook(script.phone, text) for text in script.texts] for script in patients
        ]
        self.between_tries = between_tries
        self.answered = 0
        self.in_flight = 0
        self.refused = 0
        """Deliveries that got no 2xx (and were tried again)."""
        self._milestones: dict[int, Callable[[], None]] = {}

    @property
    def webhooks(self) -> list[Webhook]:
        """Every message of every patient."""
        return [hook for conversation in self.conversations for hook in conversation]

    def when_answered(self, count: int, action: Callable[[], None]) -> None:
        """Call ``action`` right after the ``count``-th 2xx, before anyone sends again."""
        self._milestones[count] = action

    async def run(self) -> None:
        """Walk every conversation to its end, concurrently."""
        await asyncio.gather(*(self._walk(conversation) for conversation in self.conversations))

    async def _walk(self, conversation: list[Webhook]) -> None:
        for hook in conversation:
            await self.deliver(hook)

    async def deliver(self, hook: Webhook) -> None:
        """Post ``hook`` until it gets a 2xx."""
        for _ in range(MAX_TRIES):
            self.in_flight += 1
            try:
                accepted = await self.gateway.post(hook)
            finally:
                self.in_flight -= 1
            if accepted:
                self.answered += 1
                if (action := self._milestones.pop(self.answered, None)) is not None:
                    action()
                return
            self.refused += 1
            await self.between_tries()
        raise AssertionError(f"{hook.text!r} from {hook.phone} got no 2xx in {MAX_TRIES} tries")
