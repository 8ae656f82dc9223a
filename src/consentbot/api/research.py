"""``/api/v1``: invite participants, read what they permit today, read their ledger,
read the study's published versions.

Documented in docs/research-api.md. Errors are JSON ``{"error": ..., "field": ...}``.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from consentbot import keys
from consentbot.api.http import authorise, iso, json_error, read_json, status_for, too_large
from consentbot.api.negotiation import FHIR_JSON, wants_fhir
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.domain.status import MEANINGS, ConsentStatus, counts_as_permission
from consentbot.services.cohort_file import CohortRow, RowProblem
from consentbot.services.errors import ServiceError
from consentbot.services.fhir_consent import FhirStudy, fhir_consent
from consentbot.services.queries import ConsentView, HistoryEvent
from consentbot.services.versions import VersionSummary


def _invitation_body(raw: Any) -> tuple[str, str, str | None]:
    if not isinstance(raw, dict):
        raise json_error(web.HTTPUnprocessableEntity, "the body must be a JSON object")
    unknown = sorted(set(raw) - {"phone", "reference", "language"})
    if unknown:
        raise json_error(
            web.HTTPUnprocessableEntity, f"{unknown[0]}: is not a known field", unknown[0]
        )
    values: dict[str, str | None] = {}
    for name, required in (("phone", True), ("reference", True), ("language", False)):
        value = raw.get(name)
        if value is None and not required:
            values[name] = None
        elif not isinstance(value, str) or not value.strip():
            raise json_error(
                web.HTTPUnprocessableEntity,
                f"{name}: is required and must be a non-empty string",
                name,
            )
        else:
            values[name] = value.strip()
    return str(values["phone"]), str(values["reference"]), values["language"]


async def create_invitation(request: web.Request) -> web.Response:
    """``POST /api/v1/studies/{study}/invitations``."""
    study = await authorise(request)
    try:
        raw = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise json_error(web.HTTPUnprocessableEntity, "the body is not valid JSON") from None
    phone, reference, language = _invitation_body(raw)
    try:
        invitation = await request.app[keys.INVITATIONS].invite(
            study,
            phone=phone,
            reference=reference,
            language=language,
            provenance=Provenance(Channel.API, "research-system", Auth.SYSTEM),
        )
    except ServiceError as error:
        raise status_for(error) from None
    body = {
        "study": invitation.study,
        "participant": invitation.reference,
        "language": invitation.language,
        "created": invitation.created,
        "messages_stopped": invitation.messages_stopped,
        "link_sent": invitation.link_sent,
    }
    return web.json_response(body, status=201 if invitation.created else 200)


MAX_BATCH = 10_000
"""Invitations in one batch request; a bigger cohort is sent in several."""
BATCH_BODY_LIMIT = 4 * 1024 * 1024
"""Bytes in a batch request's body: 10,000 invitations with long references fit."""


def _batch_rows(raw: Any) -> tuple[list[CohortRow], list[RowProblem]]:
    """The batch's invitations as rows (``position`` is the index), and malformed ones."""
    if not isinstance(raw, dict):
        raise json_error(web.HTTPUnprocessableEntity, "the body must be a JSON object")
    unknown = sorted(set(raw) - {"invitations"})
    if unknown:
        raise json_error(
            web.HTTPUnprocessableEntity, f"{unknown[0]}: is not a known field", unknown[0]
        )
    items = raw.get("invitations")
    if not isinstance(items, list) or not items:
        raise json_error(
            web.HTTPUnprocessableEntity,
            f"invitations: must be a list of 1 to {MAX_BATCH:,} invitations",
            "invitations",
        )
    if len(items) > MAX_BATCH:
        raise too_large(
            BATCH_BODY_LIMIT,
            f"invitations: at most {MAX_BATCH:,} in one request, not {len(items):,}: "
            "send the cohort in several batches",
            "invitations",
        )
    rows: list[CohortRow] = []
    problems: list[RowProblem] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(RowProblem(index, None, "must be a JSON object"))
            continue
        if unknown := sorted(set(item) - {"phone", "reference", "language"}):
            problems.append(RowProblem(index, unknown[0], "is not a known field"))
            continue
        phone, reference, language = item.get("phone"), item.get("reference"), item.get("language")
        if not isinstance(phone, str) or not phone.strip():
            problems.append(RowProblem(index, "phone", "is required and must be a string"))
        elif not isinstance(reference, str):
            problems.append(RowProblem(index, "reference", "is required and must be a string"))
        elif language is not None and not isinstance(language, str):
            problems.append(RowProblem(index, "language", "must be a string"))
        else:
            rows.append(CohortRow(index, phone, reference, language))
    return rows, problems


async def create_invitation_batch(request: web.Request) -> web.Response:
    """``POST /api/v1/studies/{study}/invitations/batch``: all or none, durable before 202.

    202 because the invitations are stored, not yet sent: the scheduler sends them within
    seconds, at the send rate.
    """
    study = await authorise(request)
    too_big = (
        f"the body is over {BATCH_BODY_LIMIT // (1024 * 1024)} MiB: send the cohort in "
        f"batches of at most {MAX_BATCH:,} invitations"
    )
    rows, malformed = _batch_rows(await read_json(request, BATCH_BODY_LIMIT, too_big))
    cohort = request.app[keys.COHORT]
    try:
        plan = await cohort.plan(study, rows, "invitation")
        problems = sorted([*malformed, *plan.problems], key=lambda p: p.position)
        if problems:
            rejected = [{"index": p.position, "field": p.field, "error": p.error} for p in problems]
            return web.json_response({"rejected": rejected}, status=422)
        invited = await cohort.invite(plan)
    except ServiceError as error:
        raise status_for(error) from None
    accepted = sum(1 for invitation in invited if invitation.created)
    already = plan.already_invited + len(invited) - accepted
    return web.json_response({"accepted": accepted, "already_invited": already}, status=202)


async def get_consent(request: web.Request) -> web.Response:
    """``GET /api/v1/studies/{study}/participants/{reference}/consent``.

    With ``Accept: application/fhir+json``, a FHIR R4 Consent (services/fhir_consent.py).
    """
    study = await authorise(request)
    try:
        view = await request.app[keys.QUERIES].consent(study, request.match_info["reference"])
    except ServiceError as error:
        raise status_for(error) from None
    if wants_fhir(request.headers.get("Accept", "")):
        return _fhir_consent(request, view)
    response = web.json_response(
        {
            "study": view.study,
            "participant": view.participant,
            "purposes": {
                purpose: {
                    "status": item.status,
                    "permitted": counts_as_permission(ConsentStatus(item.status)),
                    "meaning": MEANINGS[ConsentStatus(item.status)],
                    "since": iso(item.since),
                    "content_version": item.content_version,
                    "withdrawal_level": item.withdrawal_level,
                }
                for purpose, item in view.purposes.items()
            },
        }
    )
    response.headers["Vary"] = "Accept"  # the same URL answers FHIR too
    return response


def _fhir_consent(request: web.Request, view: ConsentView) -> web.Response:
    study = request.app[keys.STUDIES].get(view.study)
    if study is None:  # found by the query a moment ago; only a reload could drop it since
        raise json_error(web.HTTPNotFound, f"there is no study {view.study!r}")
    # Identifiers and the policy are absolute URLs: the public URL, else where we were reached.
    base = request.app[keys.SETTINGS].public_url or str(request.url.origin())
    facts = FhirStudy(study.text(study.default_language).title, study.version)
    resource = fhir_consent(view, facts, base, as_of=request.app[keys.QUERIES].deps.clock())
    response = web.json_response(resource, content_type=FHIR_JSON)
    response.headers["Vary"] = "Accept"
    return response


def _event_json(event: HistoryEvent) -> dict[str, object]:
    return {
        "seq": event.seq,
        "purpose": event.purpose,
        "action": event.action,
        "from": event.from_status,
        "to": event.to_status,
        "withdrawal_level": event.withdrawal_level,
        "content_version": event.content_version,
        "content_digest": event.content_digest,
        "language": event.language,
        "channel": event.channel,
        "actor": event.actor,
        "auth": event.auth,
        "assisted_by": event.assisted_by,
        "confirmed_via": event.confirmed_via,
        "at": iso(event.at),
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }


async def get_history(request: web.Request) -> web.Response:
    """``GET /api/v1/studies/{study}/participants/{reference}/history``."""
    study = await authorise(request)
    reference = request.match_info["reference"]
    try:
        events = await request.app[keys.QUERIES].history(study, reference)
    except ServiceError as error:
        raise status_for(error) from None
    return web.json_response(
        {"study": study, "participant": reference, "events": [_event_json(e) for e in events]}
    )


async def list_participants(request: web.Request) -> web.Response:
    """``GET /api/v1/studies/{study}/participants``."""
    study = await authorise(request)
    try:
        found = await request.app[keys.QUERIES].participants(study)
    except ServiceError as error:
        raise status_for(error) from None
    return web.json_response(
        {
            "study": study,
            "participants": [
                {"participant": p.reference, "joined": p.joined_by, "created": iso(p.created)}
                for p in found
            ],
        }
    )


def _version_json(summary: VersionSummary) -> dict[str, object]:
    return {
        "version": summary.version,
        "content_hash": summary.content_hash,
        "published_by": summary.published_by,
        "published_at": iso(summary.published_at),
    }


async def list_versions(request: web.Request) -> web.Response:
    """``GET /api/v1/studies/{study}/versions``."""
    study = await authorise(request)
    try:
        versions = await request.app[keys.VERSIONS].list(study)
    except ServiceError as error:
        raise status_for(error) from None
    return web.json_response({"study": study, "versions": [_version_json(v) for v in versions]})


async def get_version(request: web.Request) -> web.Response:
    """``GET /api/v1/studies/{study}/versions/{n}``: the version's files, per language."""
    study = await authorise(request)
    try:
        found = await request.app[keys.VERSIONS].get(study, request.match_info["n"])
    except ServiceError as error:
        raise status_for(error) from None
    return web.json_response(
        {
            "study": study,
            **_version_json(found.summary),
            "files": {"study": found.study, "languages": found.languages},
        }
    )


def research_routes() -> list[web.RouteDef]:
    """The API's routes."""
    base = "/api/v1/studies/{study}"
    return [
        web.post(f"{base}/invitations", create_invitation),
        web.post(f"{base}/invitations/batch", create_invitation_batch),
        web.get(f"{base}/participants", list_participants),
        web.get(f"{base}/participants/{{reference}}/consent", get_consent),
        web.get(f"{base}/participants/{{reference}}/history", get_history),
        web.get(f"{base}/versions", list_versions),
        web.get(f"{base}/versions/{{n}}", get_version),
    ]
