"""``GET /api/v1/studies/{study}/participants/{reference}/receipts``: a participant's signed
consent receipts, newest first, exactly as issued (docs/receipts.md, docs/research-api.md)."""

from __future__ import annotations

from aiohttp import web

from consentbot import keys
from consentbot.api.http import authorise, iso, status_for
from consentbot.services.errors import ServiceError


async def list_receipts(request: web.Request) -> web.Response:
    """Every receipt of the participant: reference, when, and the signed document."""
    study = await authorise(request)
    reference = request.match_info["reference"]
    try:
        receipts = await request.app[keys.RECEIPTS].for_reference(study, reference)
    except ServiceError as error:
        raise status_for(error) from None
    body = {
        "study": study,
        "participant": reference,
        "receipts": [
            {
                "reference": receipt.reference,
                "created_at": iso(receipt.created_at),
                "receipt": receipt.document,
            }
            for receipt in receipts
        ],
    }
    return web.json_response(body)


def receipt_routes() -> list[web.RouteDef]:
    """The receipts API's routes."""
    base = "/api/v1/studies/{study}"
    return [web.get(f"{base}/participants/{{reference}}/receipts", list_receipts)]
