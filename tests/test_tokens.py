"""``consentbot token list`` and ``token revoke``, run as real processes, seen through the API."""

from __future__ import annotations

from sqlmodel import select

from consentbot import keys
from consentbot.settings import Settings
from consentbot.store.tables import ApiToken
from tests.conftest import AppClient
from tests.support.cli import consentbot
from tests.support.journey import STUDY


def create(settings: Settings, label: str) -> str:
    result = consentbot(settings, "token", "create", "--study", STUDY, "--label", label)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


async def stored(client: AppClient) -> list[ApiToken]:
    async with client.app[keys.DATABASE].read() as session:
        return list((await session.exec(select(ApiToken).order_by(ApiToken.id))).all())  # type: ignore[arg-type]


async def status_with(client: AppClient, token: str) -> int:
    response = await client.get(
        f"/api/v1/studies/{STUDY}/participants", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status


async def test_list_shows_every_token_but_never_a_token_or_its_hash(
    client: AppClient, settings: Settings
) -> None:
    empty = consentbot(settings, "token", "list")
    assert empty.returncode == 0, empty.stderr
    assert "no tokens yet" in empty.stdout
    first = create(settings, "cohort system")
    second = create(settings, "registry")
    assert consentbot(settings, "token", "revoke", "1").returncode == 0
    result = consentbot(settings, "token", "list")
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.strip().splitlines()
    assert header.split() == ["id", "study", "label", "created", "revoked"]
    rows = await stored(client)
    assert len(lines) == len(rows) == 2
    one, two = rows
    assert one.revoked_at is not None
    assert two.revoked_at is None
    assert lines[0].split()[:2] == ["1", STUDY]
    assert "cohort system" in lines[0]
    assert one.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") in lines[0]
    assert lines[0].rstrip().endswith(one.revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert lines[1].split()[:3] == ["2", STUDY, "registry"]
    assert lines[1].rstrip().endswith(" -")  # not revoked
    for secret in (first, second, one.token_hash, two.token_hash, first[4:12], second[4:12]):
        assert secret not in result.stdout + result.stderr


async def test_a_revoked_token_is_refused_at_once_and_others_keep_working(
    client: AppClient, settings: Settings
) -> None:
    kept = create(settings, "kept")
    doomed = create(settings, "doomed")
    assert await status_with(client, doomed) == 200
    result = consentbot(settings, "token", "revoke", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"token 2 (doomed) for study '{STUDY}' revoked"
    response = await client.get(
        f"/api/v1/studies/{STUDY}/participants", headers={"Authorization": f"Bearer {doomed}"}
    )
    assert response.status == 401
    assert (await response.json()) == {"error": "the bearer token is not valid"}
    assert await status_with(client, kept) == 200


async def test_revoking_an_unknown_or_revoked_token_is_a_clear_error_and_changes_nothing(
    client: AppClient, settings: Settings
) -> None:
    token = create(settings, "twice")
    unknown = consentbot(settings, "token", "revoke", "99")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "consentbot: there is no token 99"
    assert (await stored(client))[0].revoked_at is None
    assert await status_with(client, token) == 200
    assert consentbot(settings, "token", "revoke", "1").returncode == 0
    (revoked,) = await stored(client)
    assert revoked.revoked_at is not None
    again = consentbot(settings, "token", "revoke", "1")
    assert again.returncode == 1
    when = revoked.revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert again.stderr.strip() == f"consentbot: token 1 was already revoked at {when}"
    assert (await stored(client))[0].revoked_at == revoked.revoked_at
    not_a_number = consentbot(settings, "token", "revoke", "first")
    assert not_a_number.returncode == 2
    assert "invalid int value: 'first'" in not_a_number.stderr
