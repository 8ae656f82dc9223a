"""Which representation a research system asked for in its ``Accept`` header."""

from __future__ import annotations

FHIR_JSON = "application/fhir+json"
_FHIR_TYPES = frozenset({FHIR_JSON, "application/json+fhir"})
"""The R4 media type, and the older one some FHIR clients still send."""


def wants_fhir(accept: str) -> bool:
    """True when ``accept`` names a FHIR JSON media type without ``q=0``.

    Anything else (no header, ``*/*``, ``application/json``) keeps the plain JSON answer:
    FHIR is given only to a client that asks for it by name.
    """
    for media_range in accept.split(","):
        media_type, *parameters = (part.strip() for part in media_range.split(";"))
        if media_type.lower() not in _FHIR_TYPES:
            continue
        quality = next((p.partition("=")[2] for p in parameters if p.lower().startswith("q=")), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            continue
    return False
