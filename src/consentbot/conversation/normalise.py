"""How inbound text is compared with keywords: case, accents, digits and punctuation ignored."""

from __future__ import annotations

import unicodedata


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _ascii_digit(ch: str) -> str:
    # Urdu and Arabic-Indic digits ("۲") select topics as well as "2" does.
    value = unicodedata.digit(ch, None)
    return str(value) if value is not None else ch


def _is_edge(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] in "PS"


def normalise(text: str) -> str:
    """Fold ``text`` for matching: "  Tak! " and "TAK" both become "tak".

    The same function is applied to keywords and to what people send, so folding
    that changes a letter (an Urdu hamza, a Welsh circumflex) changes both sides alike.
    """
    folded = _strip_marks(text).casefold()
    folded = "".join(_ascii_digit(ch) for ch in folded)
    start, end = 0, len(folded)
    while start < end and _is_edge(folded[start]):
        start += 1
    while end > start and _is_edge(folded[end - 1]):
        end -= 1
    return " ".join(folded[start:end].split())


def first_word(normalised: str) -> str:
    """The first word of already normalised text, without trailing punctuation."""
    head = normalised.split(" ", 1)[0] if normalised else ""
    return normalise(head)
