"""WHO by SMS: who used the person's data, when and what for, newest first, paged with MORE."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from consentbot.services.clock import ManualClock
from tests.accesses.support import active_people, body, record
from tests.conftest import AppClient
from tests.support.journey import ResearchSystem
from tests.support.twilio_fake import FakeTwilio

Loops = Callable[[], Awaitable[None]]
COMPANY = {"name": "J Bloggs", "organisation": "Acme Ltd", "kind": "company"}


async def test_who_with_no_accesses_says_so(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    [phone] = await active_people(client, fake_twilio, clock, research, 1)
    await run_loops()
    phone.text()
    await phone.send("who")
    await run_loops()
    assert phone.text() == "Nobody has used your data from this study yet. Send WHO again later to check."


async def test_who_lists_newest_first_and_names_a_company_as_one(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    [phone, _] = await active_people(client, fake_twilio, clock, research, 2)
    await record(client, research, body(["P-1", "P-2"]))
    clock.advance(timedelta(days=3, hours=13, minutes=30))  # 5 December, 23:30 UTC
    await record(client, research, body(["P-1"], purpose="commercial-partner", accessor=COMPANY))
    await record(client, research, body(["P-2"], dataset="Not P-1's"))
    await run_loops()
    phone.text()
    await phone.send("WHO")
    await run_loops()
    assert phone.text() == (
        "Who has used your data, newest first:\n"
        "5 December 2026: Acme Ltd, a company (J Bloggs). Purpose: Help build an X-ray tool.\n"
        "2 December 2026: University of Leeds (Dr A Shah). Purpose: Research on your records."
    )
