"""``POST /api/v1/studies/{study}/accesses``: record which participants' data was used.

Documented in docs/accesses.md. Errors are JSON ``{"error": ..., "field": ...}``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from consentbot import keys
from consentbot.api.http import authorise, json_error, read_json, status_for
from consentbot.domain.accesses import MAX_PARTICIPANTS, AccessorKind
from consentbot.services.accesses import AccessRequestBody
from consentbot.services.errors import ServiceError

BODY_LIMIT = 16 * 1024 * 1024
"""Bytes in a request's body: 100,000 references of up to 100 characters fit."""
TOO_BIG = (
    f"the body is over {BODY_LIMIT // (1024 * 1024)} MiB: record the access in calls of "
    f"at most {MAX_PARTICIPANTS:,} participants"
)
"""The 413's error: how to split a request over the limit."""
MAX_KEY = 200
"""Characters in an Idempotency-Key."""
_LIMITS = {"name": 200, "organisation": 200, "dataset": 200, "reason": 1000}
_KINDS = ", ".join(kind.value for kind in AccessorKind)


def _invalid(field: str, message: str) -> web.HTTPException:
    return json_error(web.HTTPUnprocessableEntity, f"{field}: {message}", field)


def _text(raw: dict[str, Any], name: str, field: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(field, "is required and must be a non-empty string")
    limit = _LIMITS.get(name, 100)
    if len(value.strip()) > limit:
        raise _invalid(field, f"must be at most {limit} characters")
    return value.strip()


def _unknown(raw: dict[str, Any], known: set[str], prefix: str = "") -> None:
    if unknown := sorted(set(raw) - known):
        raise _invalid(f"{prefix}{unknown[0]}", "is not a known field")


def parse_body(raw: Any) -> AccessRequestBody:
    """The request, or a 422 naming the first field at fault."""
    if not isinstance(raw, dict):
        raise json_error(web.HTTPUnprocessableEntity, "the body must be a JSON object")
    _unknown(raw, {"purpose", "accessor", "dataset", "reason", "participants"})
    purpose = _text(raw, "purpose", "purpose")
    accessor = raw.get("accessor")
    if not isinstance(accessor, dict):
        raise _invalid("accessor", "is required: an object with name, organisation and kind")
    _unknown(accessor, {"name", "organisation", "kind"}, "accessor.")
    name = _text(accessor, "name", "accessor.name")
    organisation = _text(accessor, "organisation", "accessor.organisation")
    kind = accessor.get("kind")
    if kind not in {k.value for k in AccessorKind}:
        raise _invalid("accessor.kind", f"must be one of {_KINDS}")
    dataset = _text(raw, "dataset", "dataset")
    reason = _text(raw, "reason", "reason")
    participants = raw.get("participants")
    if not isinstance(participants, list) or not participants:
        raise _invalid(
            "participants", f"must be a list of 1 to {MAX_PARTICIPANTS:,} participant references"
        )
    if len(participants) > MAX_PARTICIPANTS:
        raise _invalid(
            "participants",
            f"at most {MAX_PARTICIPANTS:,} in one call, not {len(participants):,}: "
            "record the access in several calls",
        )
    seen: set[str] = set()
    for index, reference in enumerate(participants):
        if not isinstance(reference, str) or not reference.strip():
            raise _invalid(f"participants[{index}]", "must be a non-empty string")
        if reference in seen:
            raise _invalid(f"participants[{index}]", f"{reference!r} is listed twice")
        seen.add(reference)
    return AccessRequestBody(
        purpose=purpose,
        accessor_name=name,
        accessor_organisation=organisation,
        accessor_kind=AccessorKind(kind),
        dataset=dataset,
        reason=reason,
        participants=tuple(participants),
    )


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise _invalid("Idempotency-Key", f"must be 1 to {MAX_KEY} characters")
    return key


async def record_access(request: web.Request) -> web.Response:
    """``POST /api/v1/studies/{study}/accesses``: 201 with what was recorded and refused."""
    study = await authorise(request)
    key = _idempotency_key(request)
    body = parse_body(await read_json(request, BODY_LIMIT, TOO_BIG))
    try:
        answer = await request.app[keys.ACCESSES].record(study, body, key)
    except ServiceError as error:
        raise status_for(error) from None
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return web.Response(
        text=answer.body, status=201, content_type="application/json", headers=headers
    )


def access_routes() -> list[web.RouteDef]:
    """The access-record API's routes."""
    return [web.post("/api/v1/studies/{study}/accesses", record_access)]
