"""Every /staff route the app has, found by walking its router, refuses a request without a
staff session: pages send it to the login page, /staff/api/... answers 401 in JSON.

The list is not written by hand, so a route added later is checked without anyone
remembering to add it here; only the login and set-password pages are public, and they are
named here by path (not by the guard's own list, which could grow by mistake).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, make_mocked_request
from aiohttp.web_urldispatcher import AbstractResource, PrefixedSubAppResource

from consentbot.app import create_app
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient

PUBLIC: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/staff/login"),
        ("POST", "/staff/login"),
        ("GET", "/staff/password/{token}"),
        ("POST", "/staff/password/{token}"),
    }
)
"""(method, route) reachable with no session: logging in and setting a first password."""
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
STAFF = re.compile(r"/staff(/|$)")

AppFactory = Callable[[Callable[[web.Application], None]], Awaitable[AppClient]]


def staff_routes(app: web.Application) -> Iterator[tuple[str, str, str]]:
    """(method, route pattern, example path) for every route of ``app`` (and its
    sub-applications) under /staff, wherever it was registered."""
    for resource in app.router.resources():
        if isinstance(resource, PrefixedSubAppResource):
            yield from staff_routes(resource.get_info()["app"])
            continue
        yield from _routes_of(resource)


def _routes_of(resource: AbstractResource) -> Iterator[tuple[str, str, str]]:
    pattern = resource.canonical
    if not STAFF.match(pattern):
        return
    # "1" fits every placeholder the app uses (numeric ids, study ids, tokens, references).
    path = PLACEHOLDER.sub("1", pattern)
    for route in resource:
        yield route.method, pattern, path


async def resolves_to(app: web.Application, method: str, path: str, pattern: str) -> bool:
    """Whether ``method path`` reaches the route ``pattern`` (so the placeholder fits it)."""
    match = await app.router.resolve(make_mocked_request(method, path, app=app))
    return match.route.resource is not None and match.route.resource.canonical == pattern


async def unguarded(client: AppClient) -> list[str]:
    """Every non-public /staff route that answers a request with no session otherwise than
    the login redirect (pages) or 401 JSON (API); empty when all are guarded."""
    found = []
    routes = sorted(set(staff_routes(client.app)))
    assert routes, "no /staff routes found: the walk is broken"
    for method, pattern, path in routes:
        assert await resolves_to(client.app, method, path, pattern), (method, path, pattern)
        if (method, pattern) in PUBLIC:
            continue
        response = await client.request(method, path, allow_redirects=False)
        if path.startswith("/staff/api/"):
            body = await response.json() if response.content_type == "application/json" else None
            if response.status != 401 or body != {"error": "a staff session is needed"}:
                found.append(f"{method} {pattern}: {response.status} {body}")
        elif response.status != 303 or response.headers.get("Location") != "/staff/login":
            found.append(f"{method} {pattern}: {response.status} {response.headers.get('Location')}")
    return found


@pytest.fixture
def make_app(
    settings: Settings, clock: ManualClock, aiohttp_client: Callable[..., Awaitable[AppClient]]
) -> AppFactory:
    """The real app, after ``change`` may add to it (before it starts and its router freezes)."""

    async def make(change: Callable[[web.Application], None]) -> AppClient:
        app = create_app(settings, clock=clock, run_background=False)
        change(app)
        return await aiohttp_client(TestServer(app))

    return make


def unchanged(app: web.Application) -> None:
    """The app as it is built."""


async def test_no_staff_route_answers_without_a_session(make_app: AppFactory) -> None:
    client = await make_app(unchanged)
    routes = {(method, pattern) for method, pattern, _ in staff_routes(client.app)}
    # The walk sees the sub-application and the routes added by each staff module.
    assert {("GET", "/staff/"), ("GET", "/staff/api/me"), ("POST", "/staff/assisted/{id}/messages")} <= routes
    assert routes >= PUBLIC
    assert await unguarded(client) == []


async def test_the_public_pages_answer_without_a_session(make_app: AppFactory) -> None:
    client = await make_app(unchanged)
    response = await client.get("/staff/login", allow_redirects=False)
    assert response.status == 200


async def open_page(request: web.Request) -> web.Response:
    return web.Response(text="participant details")


async def test_a_staff_route_added_outside_the_guard_is_caught(make_app: AppFactory) -> None:
    """The check itself: /staff routes added on the main app, past the guard, are found
    (``add_get`` adds HEAD as well)."""

    def add_open_routes(app: web.Application) -> None:
        app.router.add_get("/staff/open-by-mistake/{id}", open_page)
        app.router.add_post("/staff/api/open-by-mistake", open_page)

    client = await make_app(add_open_routes)
    assert await unguarded(client) == [
        "GET /staff/open-by-mistake/{id}: 200 None",
        "HEAD /staff/open-by-mistake/{id}: 200 None",
        "POST /staff/api/open-by-mistake: 200 None",
    ]
