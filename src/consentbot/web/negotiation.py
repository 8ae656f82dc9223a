"""Accept-Language, read into a list of language codes in order of preference."""

from __future__ import annotations


def preferred_languages(header: str | None) -> list[str]:
    """``"pl-PL,pl;q=0.9,en;q=0.5"`` -> ``["pl", "en"]`` (primary subtags, by q, duplicates dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = tag.strip().split("-")[0].lower()
        if code and code != "*" and quality > 0:
            weighted.append((-quality, position, code))
    seen: list[str] = []
    for _, _, code in sorted(weighted):
        if code not in seen:
            seen.append(code)
    return seen
