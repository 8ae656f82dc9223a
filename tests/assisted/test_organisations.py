"""A person belongs to the community organisation that helps them: another organisation's
workers can neither find, register nor see them (issue #9: "a community worker cannot see
another organisation's people")."""

from __future__ import annotations

from sqlmodel import select

from consentbot.domain.staff import StaffRole
from consentbot.store.tables import AssistedSession, Participant
from tests.assisted.test_assisted import LOCAL, NUMBER, ORGANISATION, register, worker
from tests.staff.conftest import StaffBrowser, StaffFactory
from tests.support.journey import STUDY, ResearchSystem
from tests.support.tamper import database

OTHER_GROUP = "Another Group"


async def helper_of(browser: StaffBrowser, study: str = STUDY) -> list[str | None]:
    async with database(browser.client).read() as session:
        rows = (await session.exec(select(Participant.organisation).where(Participant.study_id == study))).all()
    return list(rows)


async def sessions(browser: StaffBrowser) -> int:
    async with database(browser.client).read() as session:
        return len((await session.exec(select(AssistedSession))).all())


async def find(browser: StaffBrowser, phone: str = LOCAL) -> int:
    await browser.open("/staff/assisted")
    return await browser.post("/staff/assisted/find", study=STUDY, phone=phone)


async def test_another_organisations_worker_finds_no_one_and_cannot_register_them(
    make_staff: StaffFactory,
) -> None:
    mine = await worker(make_staff)
    participant_id = await register(mine)
    assert await helper_of(mine) == [ORGANISATION]
    opened = await sessions(mine)

    other = await worker(make_staff, "other@example.org", OTHER_GROUP)
    # Finding answers exactly as for a number that is in no study: nothing is given away.
    assert await find(other) == 404
    assert other.error == "Not found."
    assert await find(other, "07400 900799") == 404
    assert other.error == "Not found."
    # Registering the same number is refused, and says who can help instead.
    await other.open("/staff/assisted")
    fields = {"study": STUDY, "phone": LOCAL, "language": "ur", "agreed": "yes"}
    assert await other.post("/staff/assisted/register", **fields) == 403
    assert other.error is not None
    assert "Another organisation helps" in other.error
    assert "study team" in other.error
    # Nothing was opened, claimed or shown to them.
    assert await sessions(other) == opened
    assert await helper_of(other) == [ORGANISATION]
    await other.open(f"/staff/assisted/{participant_id}")
    assert other.status == 403

    colleague = await worker(make_staff, "colleague@example.org")
    assert await find(colleague) == 200
    assert colleague.url == f"/staff/assisted/{participant_id}"


async def test_a_person_the_study_invited_joins_the_first_organisation_that_helps_them(
    make_staff: StaffFactory,
) -> None:
    admin = await make_staff()
    await admin.account("admin@example.org", StaffRole.ADMIN)
    research = await ResearchSystem.register(admin.client)
    await research.invite(NUMBER, "INV-1")
    assert await helper_of(admin) == [None]
    # An admin may open anyone, and opening claims no one for any organisation.
    assert await find(admin) == 200
    assert await helper_of(admin) == [None]

    first = await worker(make_staff, "first@example.org", OTHER_GROUP)
    assert await find(first) == 200
    assert await helper_of(first) == [OTHER_GROUP]

    second = await worker(make_staff)
    assert await find(second) == 404
    assert await helper_of(second) == [OTHER_GROUP]
    assert await find(admin) == 200
