"""A serving process runs on uvloop's event loop (installed with the service)."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
import uvloop
from aiohttp import web

from consentbot import event_loop, workers
from consentbot.settings import Settings


def test_a_new_loop_is_uvloop_s() -> None:
    loop = event_loop.new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_without_uvloop_the_standard_loop_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if not installed
    loop = event_loop.new_event_loop()
    try:
        assert not isinstance(loop, uvloop.Loop)
        assert isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()


def test_run_runs_the_coroutine_on_uvloop_and_returns_its_result() -> None:
    async def which() -> type[asyncio.AbstractEventLoop]:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop())

    assert event_loop.run(which()) is uvloop.Loop


def test_serve_hands_aiohttp_a_uvloop_loop(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    given: dict[str, Any] = {}

    def run_app(app: web.Application, **options: Any) -> None:
        given.update(options)

    monkeypatch.setattr(web, "run_app", run_app)
    monkeypatch.setattr("consentbot.app.create_app", lambda _settings: web.Application())
    assert workers.serve(settings.with_(workers=1)) == 0
    loop = given["loop"]
    try:
        assert isinstance(loop, uvloop.Loop)
        assert (given["host"], given["port"]) == (settings.host, settings.port)
    finally:
        loop.close()
