"""serve serves published versions: publishes a new study, refuses edited files, picks up
a version published while it runs, and the versions API shows the exact files."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import text

from consentbot import keys
from consentbot.app import create_app
from consentbot.content.model import StudyText
from consentbot.content.problems import ContentError
from consentbot.conversation.vocabulary import Command
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient, settle
from tests.support.content import edit_summary, sample_copy, set_version
from tests.support.journey import STUDY, ResearchSystem, words
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

BASE = f"/api/v1/studies/{STUDY}/versions"
ClientFactory = Callable[..., Awaitable[AppClient]]


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return sample_copy(tmp_path / "content")


@pytest.fixture
def make_client(
    settings: Settings,
    clock: ManualClock,
    content: Path,
    twilio_server: TestServer,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> ClientFactory:
    """The service on a copy of the content folder; keyword arguments go to create_app."""

    async def make(**options: Any) -> AppClient:
        configured = settings.with_(
            content_dir=content,
            twilio_api_base=str(twilio_server.make_url("")).rstrip("/"),
            publish_poll_interval=0.05,
        )
        return await aiohttp_client(
            create_app(configured, clock=clock, run_background=False, **options)
        )

    return make


def served_text(client: AppClient, language: str = "en") -> StudyText:
    study = client.app[keys.STUDIES].get(STUDY)
    assert study is not None
    return study.text(language)


async def start_and_stop(settings: Settings, clock: ManualClock) -> None:
    server = TestServer(create_app(settings, clock=clock, run_background=False))
    try:
        await server.start_server()
    finally:
        await server.close()


async def test_serve_publishes_a_study_never_published(
    make_client: ClientFactory, content: Path
) -> None:
    client = await make_client()
    research = await ResearchSystem.register(client)
    response = await client.get(BASE, headers=research.headers)
    assert response.status == 200
    (version,) = (await response.json())["versions"]
    assert version["version"] == 1
    assert version["published_by"] == "serve"
    assert len(version["content_hash"]) == 64
    response = await client.get(f"{BASE}/1", headers=research.headers)
    assert response.status == 200
    body = await response.json()
    folder = content / "studies" / STUDY
    assert body["files"]["study"] == (folder / "study.yaml").read_text(encoding="utf-8")
    assert body["files"]["languages"] == {
        code: (folder / f"{code}.yaml").read_text(encoding="utf-8")
        for code in ("en", "cy", "pl", "ur")
    }
    assert {k: body[k] for k in version} == version


async def test_serve_refuses_files_edited_without_raising_the_version(
    settings: Settings, clock: ManualClock, content: Path
) -> None:
    configured = settings.with_(content_dir=content)
    await start_and_stop(configured, clock)
    edit_summary(content, "Changed, but still called version 1.", language="cy")
    with pytest.raises(ContentError) as refused:
        await start_and_stop(configured, clock)
    message = str(refused.value)
    assert (
        f"{content / 'studies' / STUDY / 'cy.yaml'}: was changed since version 1 of '{STUDY}'"
        in message
    )
    assert "raise `version` and publish" in message
    # Raising the version is not enough on its own: serve keeps serving version 1 until
    # it is published, and starts.
    set_version(content, 2)
    await start_and_stop(configured, clock)


async def test_a_version_published_while_running_is_served_and_named_in_the_ledger(
    make_client: ClientFactory, fake_twilio: FakeTwilio, content: Path
) -> None:
    client = await make_client()
    live = client.app[keys.STUDIES]
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900301")
    w = words("en")
    await research.invite("07400 900301", "P-0301")
    await settle(client.app)
    await phone.send(w.word(Command.YES))  # start the questions
    await phone.send(w.word(Command.YES))  # records-research, under version 1
    first_digest = served_text(client).digest

    set_version(content, 2)
    edit_summary(content, "Version 2: the same study, explained again.")
    published = await client.app[keys.PUBLISHING].publish(STUDY, "Dr Ada")
    assert live.studies[STUDY].version == 1  # not yet: the poll picks it up
    assert await client.app[keys.PUBLISHED].check_once()  # what the poll does within seconds
    await phone.send(w.word(Command.NO))  # social-care-linkage, under version 2

    events = await research.history("P-0301")
    assert [(e["purpose"], e["content_version"]) for e in events] == [
        ("records-research", 1),
        ("social-care-linkage", 2),
    ]
    assert events[0]["content_digest"] == first_digest
    assert events[1]["content_digest"] == served_text(client).digest
    assert served_text(client).summary == "Version 2: the same study, explained again."

    # Each event names its version; that version's files give the exact text agreed to.
    versions = (await (await client.get(BASE, headers=research.headers)).json())["versions"]
    assert [(v["version"], v["published_by"]) for v in versions] == [(1, "serve"), (2, "Dr Ada")]
    assert versions[1]["content_hash"] == published.content_hash
    for event in events:
        response = await client.get(f"{BASE}/{event['content_version']}", headers=research.headers)
        files = (await response.json())["files"]
        seen = files["study"].encode() + b"\0" + files["languages"][event["language"]].encode()
        assert hashlib.sha256(seen).hexdigest() == event["content_digest"]


async def test_versions_api_needs_the_studys_token_and_names_unknown_versions(
    make_client: ClientFactory,
) -> None:
    client = await make_client()
    research = await ResearchSystem.register(client)
    for path in (BASE, f"{BASE}/1"):
        response = await client.get(path)
        assert response.status == 401
        assert (await response.json()) == {"error": "a bearer token is required"}
        response = await client.get(path, headers={"Authorization": "Bearer cbt_nope"})
        assert response.status == 401
    response = await client.get("/api/v1/studies/other-study/versions", headers=research.headers)
    assert response.status == 403
    for unknown in ("2", "0", "abc", "1e3", "99999999999999999999"):
        response = await client.get(f"{BASE}/{unknown}", headers=research.headers)
        assert response.status == 404
        body = await response.json()
        assert body["field"] == "version"
        assert f"has no published version {unknown!r}" in body["error"]


async def test_a_version_edited_in_the_database_is_not_shown_or_served(
    make_client: ClientFactory, settings: Settings, clock: ManualClock, content: Path
) -> None:
    client = await make_client()
    research = await ResearchSystem.register(client)
    async with client.app[keys.DATABASE].transaction() as session:
        await session.exec(  # type: ignore[call-overload]
            text("UPDATE published_versions SET files = replace(files, 'research', 'marketing')")
        )
    for path in (BASE, f"{BASE}/1"):
        response = await client.get(path, headers=research.headers)
        assert response.status == 500
        assert "does not match its content hash" in (await response.json())["error"]
    with pytest.raises(ContentError, match="does not match its content hash"):
        await start_and_stop(settings.with_(content_dir=content), clock)
