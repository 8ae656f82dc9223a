"""The staff queue at /staff/callbacks: list, claim (the number shown to the claimer only,
and logged), finish with an outcome; who may see which study's requests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import select

from consentbot import keys
from consentbot.domain.callbacks import CallbackOutcome, CallbackStatus
from consentbot.domain.staff import AccessReason, StaffRole
from consentbot.settings import Settings
from consentbot.store.tables import Participant
from tests.callbacks.support import requests
from tests.conftest import AppClient, settle
from tests.staff.conftest import StaffBrowser, StaffFactory
from tests.support.content import SECOND_STUDY, with_second_study
from tests.support.journey import STUDY, ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

NUMBER = "+447400900301"
LOCAL = "7400900301"
TEAM = "team@example.org"
OTHER_TEAM = "hips-team@example.org"
WORKER = "worker@example.org"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    # A second study, so a study team of another study can be shown to see nothing.
    return settings.with_(content_dir=with_second_study(tmp_path / "content"))


async def asked_for_a_call(client: AppClient, fake_twilio: FakeTwilio, reference: str = "Q-1") -> int:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, NUMBER)
    await research.invite(phone.number, reference)
    await phone.send("CALL")
    await settle(client.app)
    (queued,) = await requests(client)
    assert queued.id is not None
    return queued.id


async def logged_in(make_staff: StaffFactory, email: str, role: StaffRole, studies: tuple[str, ...] = ()) -> StaffBrowser:
    browser = await make_staff()
    link = await browser.add(email, role, studies=studies)
    await browser.set_password(link)
    await browser.log_in(email)
    if role.needs_totp:
        await browser.enrol(email)
    return browser


async def test_a_study_team_claims_sees_the_number_and_finishes(
    make_staff: StaffFactory, fake_twilio: FakeTwilio
) -> None:
    team = await logged_in(make_staff, TEAM, StaffRole.STUDY_TEAM)
    request_id = await asked_for_a_call(team.client, fake_twilio)

    await team.open("/staff/callbacks")
    assert team.status == 200
    assert "Q-1" in team.page
    assert LOCAL not in team.page  # listing shows no numbers
    assert await team.app[keys.STAFF_ACCESS].newest() == []

    await team.post(f"/staff/callbacks/{request_id}/claim")
    assert team.status == 200
    assert team.notice == "You have taken this call-back. The number to call is shown below."
    assert f'href="tel:{NUMBER}"' in team.page
    (entry,) = await team.app[keys.STAFF_ACCESS].newest()
    assert (entry.staff_email, entry.reason) == (TEAM, AccessReason.CALL_BACK)
    (claimed,) = await requests(team.client)
    assert claimed.status is CallbackStatus.CLAIMED

    await team.post(f"/staff/callbacks/{request_id}/done", outcome="no-answer", note="Try again Friday")
    assert team.notice == "The call-back is finished and has left the queue."
    assert "Nobody is waiting for a call-back." in team.page
    (finished,) = await requests(team.client)
    assert finished.status is CallbackStatus.DONE
    assert finished.outcome is CallbackOutcome.NO_ANSWER
    assert finished.note == "Try again Friday"
    assert finished.done_at is not None


async def test_a_finished_request_lets_the_person_ask_again(
    make_staff: StaffFactory, fake_twilio: FakeTwilio
) -> None:
    team = await logged_in(make_staff, TEAM, StaffRole.STUDY_TEAM)
    request_id = await asked_for_a_call(team.client, fake_twilio)
    await team.open("/staff/callbacks")
    await team.post(f"/staff/callbacks/{request_id}/claim")
    await team.post(f"/staff/callbacks/{request_id}/done", outcome="reached", note="")
    phone = TwilioPhone(team.client, fake_twilio, NUMBER)
    phone.new_messages()
    await phone.send("CALL")
    await settle(team.app)
    assert phone.text().startswith("Thank you.")
    assert [r.status for r in await requests(team.client)] == [CallbackStatus.DONE, CallbackStatus.OPEN]


async def test_another_studys_team_sees_nothing_and_cannot_claim(
    make_staff: StaffFactory, fake_twilio: FakeTwilio
) -> None:
    other = await logged_in(make_staff, OTHER_TEAM, StaffRole.STUDY_TEAM, (SECOND_STUDY,))
    request_id = await asked_for_a_call(other.client, fake_twilio)
    await other.open("/staff/callbacks")
    assert other.status == 200
    assert "Q-1" not in other.page
    assert "Nobody is waiting for a call-back." in other.page
    await other.open("/staff/")  # a page with the session's CSRF token (the empty queue has no form)
    assert await other.post(f"/staff/callbacks/{request_id}/claim") == 404
    (untouched,) = await requests(other.client)
    assert untouched.status is CallbackStatus.OPEN


async def helped_by(client: AppClient, organisation: str) -> None:
    """The organisation's worker found the person (services/assisted.py claims them so)."""
    async with client.app[keys.DATABASE].transaction() as session:
        for participant in (await session.exec(select(Participant))).all():
            participant.organisation = organisation
            session.add(participant)


async def test_a_community_worker_sees_only_their_organisations_people_and_not_someone_elses_number(
    make_staff: StaffFactory, fake_twilio: FakeTwilio
) -> None:
    team = await logged_in(make_staff, TEAM, StaffRole.STUDY_TEAM)
    request_id = await asked_for_a_call(team.client, fake_twilio)

    worker = await logged_in(make_staff, WORKER, StaffRole.COMMUNITY_WORKER)
    # No organisation helps the person yet: their request is the study team's.
    await worker.open("/staff/callbacks")
    assert worker.status == 200
    assert "Q-1" not in worker.page
    await worker.open("/staff/")
    assert await worker.post(f"/staff/callbacks/{request_id}/claim") == 404

    await helped_by(team.client, "Drop-in Centre")
    await team.open("/staff/callbacks")
    await team.post(f"/staff/callbacks/{request_id}/claim")
    await worker.open("/staff/callbacks")
    assert "Q-1" in worker.page
    assert TEAM in worker.page
    assert LOCAL not in worker.page
    assert "Taken by someone else" in worker.page
    # Neither taking it over nor finishing it for them (the home page carries the CSRF token).
    await worker.open("/staff/")
    await worker.post(f"/staff/callbacks/{request_id}/claim")
    assert worker.status == 409
    assert worker.error == "Someone else has already taken this call-back."
    await worker.open("/staff/")
    await worker.post(f"/staff/callbacks/{request_id}/done", outcome="reached")
    assert worker.status == 409
    (still,) = await requests(worker.client)
    assert still.status is CallbackStatus.CLAIMED

    # Another organisation's worker sees nothing of it and cannot touch it.
    other = await make_staff()
    link = await other.add("other@example.org", StaffRole.COMMUNITY_WORKER, org="Another Group")
    await other.set_password(link)
    await other.log_in("other@example.org")
    await other.open("/staff/callbacks")
    assert "Q-1" not in other.page
    await other.open("/staff/")
    assert await other.post(f"/staff/callbacks/{request_id}/done", outcome="reached") == 404


async def test_forms_need_the_csrf_token_and_pages_a_session(
    make_staff: StaffFactory, fake_twilio: FakeTwilio
) -> None:
    team = await logged_in(make_staff, TEAM, StaffRole.STUDY_TEAM)
    request_id = await asked_for_a_call(team.client, fake_twilio)
    await team.open("/staff/callbacks")
    assert await team.post(f"/staff/callbacks/{request_id}/claim", csrf="forged") == 403
    assert (await requests(team.client))[0].status is CallbackStatus.OPEN

    stranger = await make_staff()
    response = await stranger.client.get("/staff/callbacks", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/staff/login")


async def test_finishing_needs_an_outcome(make_staff: StaffFactory, fake_twilio: FakeTwilio) -> None:
    team = await logged_in(make_staff, TEAM, StaffRole.STUDY_TEAM)
    request_id = await asked_for_a_call(team.client, fake_twilio)
    await team.open("/staff/callbacks")
    await team.post(f"/staff/callbacks/{request_id}/claim")
    assert await team.post(f"/staff/callbacks/{request_id}/done", outcome="maybe") == 400
    assert team.error == "Please choose what happened."
    assert re.search(r'name="outcome" value="reached" required', team.page)


async def test_the_home_page_and_the_console_lead_to_people_waiting_for_a_call(
    make_staff: StaffFactory, fake_twilio: FakeTwilio
) -> None:
    team = await logged_in(make_staff, TEAM, StaffRole.STUDY_TEAM)
    await team.open("/staff/")
    assert 'href="/staff/callbacks"' in team.page
    assert f'href="/staff/studies/{STUDY}"' in team.page
    assert f'href="/staff/studies/{SECOND_STUDY}"' not in team.page  # not this team's study
    await team.open(f"/staff/studies/{STUDY}")
    assert "Nothing needs a person." in team.page
    await asked_for_a_call(team.client, fake_twilio)
    await team.open(f"/staff/studies/{STUDY}")
    assert "1 person is waiting for a call back" in team.page
    assert "Nothing needs a person." not in team.page
