"""Helpers for the call-back tests: the stored requests, read straight from the database."""

from __future__ import annotations

from sqlmodel import col, select

from consentbot import keys
from consentbot.store.tables import CallbackRequest
from tests.conftest import AppClient


async def requests(client: AppClient) -> list[CallbackRequest]:
    """Every call-back request, oldest first."""
    async with client.app[keys.DATABASE].read() as session:
        return list((await session.exec(select(CallbackRequest).order_by(col(CallbackRequest.id)))).all())
