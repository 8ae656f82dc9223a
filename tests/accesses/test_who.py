"""WHO by SMS: who used the person's data, when and what for, newest first, paged with MORE."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from babel.dates import format_date

from consentbot import keys
from consentbot.services.clock import ManualClock
from tests.accesses.support import active_people, body, record
from tests.conftest import AppClient
from tests.support.journey import STUDY, ResearchSystem, translator
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


async def test_a_long_list_is_paged_and_more_gives_the_next_page(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    [phone] = await active_people(client, fake_twilio, clock, research, 1)
    for n in range(25):
        await record(client, research, body(["P-1"], accessor={"name": f"Researcher {n}", "organisation": "University of Leeds", "kind": "university"}))
        clock.advance(timedelta(days=1))
    await run_loops()
    phone.text()
    pages = []
    for word in ["WHO", "MORE", "MORE"]:
        await phone.send(word)
        await run_loops()
        [page] = phone.new_messages()  # one SMS: a page fits the segment budget
        pages.append(page)
    assert pages[0].startswith("Who has used your data, newest first:\n")
    assert pages[1].startswith("More uses of your data:\n")
    assert pages[0].endswith("Send MORE to see more.")
    assert pages[1].endswith("Send MORE to see more.")
    assert not pages[2].endswith("Send MORE to see more.")
    named = [line.split("(")[1].split(")")[0] for page in pages for line in page.splitlines() if "Purpose:" in line]
    assert named == [f"Researcher {n}" for n in reversed(range(25))]  # all of them, newest first, once each
    await phone.send("MORE")  # the list is over: MORE means the study's topics again
    await run_loops()
    assert "Researcher" not in phone.text()


async def test_anything_else_ends_the_paging(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    [phone] = await active_people(client, fake_twilio, clock, research, 1)
    for n in range(25):
        await record(client, research, body(["P-1"], accessor={"name": f"Researcher {n}", "organisation": "University of Leeds", "kind": "university"}))
    await phone.send("WHO")
    await phone.send("CHOICES")
    await run_loops()
    phone.text()
    await phone.send("MORE")
    await run_loops()
    assert "Researcher" not in phone.text()


@pytest.mark.parametrize(("language", "word"), [("ur", "KAUN"), ("ur", "کون"), ("cy", "PWY"), ("pl", "KTO")])
async def test_who_in_the_person_s_language(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops, language: str, word: str
) -> None:
    research = await ResearchSystem.register(client)
    [phone] = await active_people(client, fake_twilio, clock, research, 1, language=language)
    await record(client, research, body(["P-1"], purpose="commercial-partner", accessor=COMPANY))
    await run_loops()
    phone.text()
    await phone.send(word)
    await run_loops()
    t = translator(language)
    study = client.app[keys.STUDIES].get(STUDY)
    assert study is not None
    title = study.text(language).purposes["commercial-partner"].title
    date = format_date(clock().astimezone(study.timezone), "long", locale=language)
    line = t.gettext("{date}: {organisation}, a company ({name}). Purpose: {purpose}.").format(
        date=date, organisation=t.isolate("Acme Ltd"), name=t.isolate("J Bloggs"), purpose=title
    )
    assert phone.text() == f"{t.gettext('Who has used your data, newest first:')}\n{line}"
    assert t.gettext("Who has used your data, newest first:") != "Who has used your data, newest first:"
