"""What every ``/api/v1`` handler shares: the bearer check, JSON errors and timestamps.

Errors are JSON ``{"error": ..., "field": ...}`` (docs/research-api.md); a service's
domain error becomes the status that says what went wrong.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Any

from aiohttp import web

from consentbot import keys
from consentbot.services.errors import (
    Conflict,
    InvalidInput,
    ServiceError,
    UnknownParticipant,
    UnknownStudy,
)
from consentbot.services.versions import DamagedVersion, UnknownVersion

__all__ = ["authorise", "iso", "json_error", "read_json", "status_for", "too_large"]


def json_error(
    status: type[web.HTTPException], message: str, field: str | None = None
) -> web.HTTPException:
    """An error answer: ``{"error": message, "field": field}`` (401s name the scheme)."""
    body = {"error": message} | ({"field": field} if field else {})
    headers = (
        {"WWW-Authenticate": 'Bearer realm="consentbot"'}
        if status is web.HTTPUnauthorized
        else None
    )
    return status(text=json.dumps(body), content_type="application/json", headers=headers)


def iso(moment: datetime | None) -> str | None:
    """A moment as the API writes it: ISO 8601 in UTC with ``Z``."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


async def authorise(request: web.Request) -> str:
    """The study id in the path, once the bearer token is shown to be for it."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise json_error(web.HTTPUnauthorized, "a bearer token is required")
    token_study = await request.app[keys.TOKENS].study_of(token.strip())
    if token_study is None:
        raise json_error(web.HTTPUnauthorized, "the bearer token is not valid")
    study = request.match_info["study"]
    if not hmac.compare_digest(token_study.encode(), study.encode()):
        raise json_error(web.HTTPForbidden, "this token is for another study")
    return study


def status_for(error: ServiceError) -> web.HTTPException:
    """The answer to a service's domain error: 404, 409, 422, 500 (damaged text) or 400."""
    if isinstance(error, UnknownStudy | UnknownParticipant | UnknownVersion):
        return json_error(web.HTTPNotFound, error.message, error.field)
    if isinstance(error, Conflict):
        return json_error(web.HTTPConflict, error.message, error.field)
    if isinstance(error, DamagedVersion):
        # The stored text no longer matches what was published: show nothing rather
        # than text people never saw.
        return json_error(web.HTTPInternalServerError, error.message, error.field)
    if isinstance(error, InvalidInput):
        return json_error(
            web.HTTPUnprocessableEntity,
            f"{error.field}: {error.message}" if error.field else error.message,
            error.field,
        )
    return json_error(web.HTTPBadRequest, error.message, error.field)


def too_large(limit: int, message: str, field: str | None = None) -> web.HTTPException:
    """413 with a JSON error saying how to split the request."""
    body = {"error": message} | ({"field": field} if field else {})
    return web.HTTPRequestEntityTooLarge(
        max_size=limit,
        actual_size=0,  # not reported: the body is not read past the limit
        text=json.dumps(body),
        content_type="application/json",
    )


async def read_json(request: web.Request, limit: int, too_big: str) -> Any:
    """The request's JSON body, read up to ``limit`` bytes (past aiohttp's 1 MiB default,
    for the routes that take a cohort or a list of references); 413 with ``too_big``
    beyond it, 422 when it is not JSON."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit, too_big)
    data = bytearray()
    while chunk := await request.content.read(256 * 1024):
        data += chunk
        if len(data) > limit:
            raise too_large(limit, too_big)
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise json_error(web.HTTPUnprocessableEntity, "the body is not valid JSON") from None
