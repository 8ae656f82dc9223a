"""``POST /api/v1/studies/{study}/consent-check``: which of these participants may a data
pipeline use for one purpose now.

Documented in docs/data-pipelines.md and docs/research-api.md. Errors are JSON
``{"error": ..., "field": ...}`` as in the rest of the research API.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from consentbot import keys
from consentbot.api.http import authorise, iso, json_error, read_json, status_for
from consentbot.services.consent_check import MAX_REFERENCES
from consentbot.services.errors import ServiceError

BODY_LIMIT = 16 * 1024 * 1024
"""Bytes in a check's body: 100,000 references of the longest length a reference may have
(100 characters) fit; 100,000 typical references are about 1.5 MB."""
TOO_BIG = (
    f"the body is over {BODY_LIMIT // (1024 * 1024)} MiB: check at most "
    f"{MAX_REFERENCES:,} participants in one call"
)
"""The 413's error: how to split a request over the limit."""


def _check_body(raw: Any) -> tuple[str, list[str]]:
    """The purpose and references of a well-formed body; 422 naming the field otherwise."""

    def invalid(field: str, message: str) -> web.HTTPException:
        return json_error(web.HTTPUnprocessableEntity, f"{field}: {message}", field)

    if not isinstance(raw, dict):
        raise json_error(web.HTTPUnprocessableEntity, "the body must be a JSON object")
    if unknown := sorted(set(raw) - {"purpose", "participants"}):
        raise invalid(unknown[0], "is not a known field")
    purpose = raw.get("purpose")
    if not isinstance(purpose, str) or not purpose:
        raise invalid("purpose", "is required and must be a purpose id (a string)")
    references = raw.get("participants")
    if not isinstance(references, list):
        raise invalid("participants", "is required and must be a list of references (strings)")
    if len(references) > MAX_REFERENCES:
        raise invalid(
            "participants",
            f"at most {MAX_REFERENCES:,} in one check, not {len(references):,}: "
            "check the rest in another call",
        )
    for index, reference in enumerate(references):
        if not isinstance(reference, str):
            raise invalid("participants", f"item {index} is not a string")
    return purpose, references


async def consent_check(request: web.Request) -> web.Response:
    """``POST /api/v1/studies/{study}/consent-check``."""
    study = await authorise(request)
    purpose, references = _check_body(await read_json(request, BODY_LIMIT, TOO_BIG))
    try:
        answer = await request.app[keys.CONSENT_CHECK].check(study, purpose, references)
    except ServiceError as error:
        raise status_for(error) from None
    return web.json_response(
        {
            "purpose": answer.purpose,
            "as_of": iso(answer.as_of),
            "permitted": answer.permitted,
            "not_permitted": answer.not_permitted,
            "unknown": answer.unknown,
        }
    )


def consent_check_routes() -> list[web.RouteDef]:
    """The consent check's route."""
    return [web.post("/api/v1/studies/{study}/consent-check", consent_check)]
