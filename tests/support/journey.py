"""Helpers for driving a participant through the conversation in any language."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from consentbot import keys
from consentbot.conversation.vocabulary import Command, Vocabulary
from consentbot.i18n.catalogs import Catalogs
from consentbot.i18n.translator import Translator
from consentbot.services.tokens import TokenService

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"https?://\S+/i/[A-Za-z0-9_-]{20,}")


def link_in(text: str) -> str:
    """The personal link in an invitation SMS (the only place it ever goes)."""
    found = LINK.search(text)
    assert found is not None, "no personal link in the message"
    return found.group(0).rstrip("\u2069")
STUDY = "joint-health-records"
PURPOSES = ("records-research", "social-care-linkage", "commercial-partner", "recontact", "updates")


def translator(language: str) -> Translator:
    """The shipped catalog of ``language``."""
    return Catalogs.load(ROOT / "locales", [language]).get(language)


def words(language: str) -> Vocabulary:
    """The keywords a person texts in ``language`` (from the shipped catalogs)."""
    return Vocabulary.build(translator(language))


class ResearchSystem:
    """A research team's system talking to the consent API with its bearer token."""

    def __init__(self, client: TestClient[web.Request, web.Application], token: str, study: str = STUDY) -> None:
        self.client = client
        self.study = study
        self.headers = {"Authorization": f"Bearer {token}"}
        self.study = study

    @classmethod
    async def register(cls, client: TestClient[web.Request, web.Application], study: str = STUDY) -> ResearchSystem:
        token = await client.app[keys.TOKENS].create(study, "tests")
        return cls(client, token, study)

    async def invite(self, phone: str, reference: str, language: str | None = None) -> Any:
        body = {"phone": phone, "reference": reference} | ({"language": language} if language else {})
        response = await self.client.post(f"/api/v1/studies/{self.study}/invitations", json=body, headers=self.headers)
        assert response.status == 201, await response.text()
        return await response.json()

    async def consent(self, reference: str) -> dict[str, str]:
        """Purpose id -> status."""
        data = await self.consent_json(reference)
        return {purpose: item["status"] for purpose, item in data["purposes"].items()}

    async def consent_json(self, reference: str) -> dict[str, Any]:
        """The consent API's whole answer."""
        response = await self.client.get(
            f"/api/v1/studies/{self.study}/participants/{reference}/consent", headers=self.headers
        )
        assert response.status == 200, await response.text()
        data: dict[str, Any] = await response.json()
        return data

    async def history(self, reference: str) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/api/v1/studies/{self.study}/participants/{reference}/history", headers=self.headers
        )
        assert response.status == 200, await response.text()
        events: list[dict[str, Any]] = (await response.json())["events"]
        return events


__all__ = ["PURPOSES", "STUDY", "Command", "ResearchSystem", "TokenService", "words"]
