"""SMS segment arithmetic: GSM-7 and UCS-2 lengths, segment counts and splitting.

A text goes as GSM-7 when every character is in the GSM 03.38 default alphabet
(3GPP TS 23.038 §6.2.1) or its extension table (§6.2.1.1, two septets each: an
escape and the character); otherwise it goes as UCS-2, counted in UTF-16 code
units. One message holds 160 septets or 70 units; a concatenated message spends
room on its user data header, so each part holds 153 septets or 67 units.

A part never ends between an escape and its character, nor between the halves
of a UTF-16 surrogate pair, so a part may hold one septet or unit less than the
full 153 or 67. :func:`segment_count` counts the parts :func:`split_segments`
really makes, which is ``ceil(length / 153)`` (or ``/ 67``) except when such a
pair falls on a part boundary.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

Encoding = Literal["gsm7", "ucs2"]

GSM7_SINGLE: Final = 160
"""Septets in a GSM-7 message that fits in one segment."""
GSM7_MULTI: Final = 153
"""Septets in each part of a concatenated GSM-7 message."""
UCS2_SINGLE: Final = 70
"""UTF-16 code units in a UCS-2 message that fits in one segment."""
UCS2_MULTI: Final = 67
"""UTF-16 code units in each part of a concatenated UCS-2 message."""

_ESC: Final = "\x1b"

# The default alphabet by code position 0x00-0x7F (3GPP TS 23.038 §6.2.1; the
# Unicode consortium's GSM0338.TXT mapping, with 0x09 as capital Ç). Position
# 0x1B is the escape to the extension table, not a character of its own.
_GSM7_BY_POSITION: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ" + _ESC + "ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(_GSM7_BY_POSITION) == 128

GSM7_BASIC: Final = frozenset(_GSM7_BY_POSITION) - {_ESC}
"""The 127 characters of the GSM 03.38 default alphabet (one septet each)."""

# Extension table (3GPP TS 23.038 §6.2.1.1): code position after the escape.
_GSM7_EXTENSION_BY_POSITION: Final = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

GSM7_EXTENSION: Final = frozenset(_GSM7_EXTENSION_BY_POSITION.values())
"""The 10 characters of the GSM 03.38 extension table (two septets each)."""


_GSM7_ALPHABET: Final = GSM7_BASIC | GSM7_EXTENSION


_NOT_GSM7: Final = re.compile("[^" + "".join(map(re.escape, sorted(_GSM7_ALPHABET))) + "]")
"""Any character outside the alphabet: a character class is scanned without hashing each
character, half the time of ``frozenset.issuperset`` on a reply."""


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` can be sent in the GSM-7 alphabet."""
    return _NOT_GSM7.search(text) is None


def encoding_for(text: str) -> Encoding:
    """The encoding a message with this text goes in: GSM-7 when possible, else UCS-2."""
    return "gsm7" if is_gsm7(text) else "ucs2"


def septet_length(text: str) -> int:
    """Septets ``text`` takes in GSM-7 (extension characters count two).

    Raises :class:`ValueError` when a character is outside the GSM-7 alphabet.
    """
    return sum(_costs(text, "gsm7"))


def ucs2_length(text: str) -> int:
    """UTF-16 code units ``text`` takes in UCS-2 (a character beyond the BMP counts two)."""
    return sum(_costs(text, "ucs2"))


def segment_count(text: str) -> int:
    """Segments a single SMS with this text is sent and billed as (an empty text is 1)."""
    return measured(text)[1]


def measured(text: str) -> tuple[Encoding, int]:
    """The encoding a single SMS with this text goes in, and its segments: both, for
    the cost of one look at the text (every queued message needs the two)."""
    encoding = encoding_for(text)
    return encoding, _segments(text, encoding)


def _segments(text: str, encoding: Encoding) -> int:
    length = _length(text, encoding)
    single, multi = _capacities(encoding)
    if length <= single:
        return 1  # most replies: no need to find where the parts would split
    if length == len(text):
        # Every character costs one unit, so no pair can straddle a split: parts are full.
        return -(-length // multi)
    return len(_part_bounds(text, encoding))


def split_segments(text: str) -> list[str]:
    """Split ``text`` into the per-segment payloads of one (concatenated) SMS.

    A text that fits in one segment comes back whole (``""`` gives ``[""]``);
    otherwise each part holds at most 153 septets or 67 UTF-16 code units, and
    no part ends inside a GSM escape pair or a UTF-16 surrogate pair. The parts
    concatenate to ``text``.
    """
    return [text[start:end] for start, end in _part_bounds(text, encoding_for(text))]


def plan_messages(text: str, max_segments: int) -> list[str]:
    """Split a long reply into separate SMS messages of at most ``max_segments`` segments each.

    Each message breaks, in order of preference, at the last paragraph break,
    line break, sentence end or space that keeps it within ``max_segments``; a
    word longer than a whole message is cut where the message is full (not
    inside a combining sequence, where that can be helped). The whitespace at
    each break, and around a text too long for one message, is dropped, so
    joining the messages with the dropped whitespace gives back ``text``. Each
    message chooses its own encoding, so a GSM-7 part of a mostly UCS-2 text
    still goes as GSM-7.

    A text that fits comes back whole, as the only message; the result is never
    empty. Raises :class:`ValueError` when ``max_segments`` is below 1.
    """
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    if segment_count(text) <= max_segments:
        return [text]
    rest = text.strip()
    if not rest:
        return [""]
    messages: list[str] = []
    while (fits := _longest_fitting_prefix(rest, max_segments)) < len(rest):
        cut = _break_point(rest, fits)
        messages.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    messages.append(rest)
    return messages


def planned(text: str, max_segments: int) -> list[tuple[str, Encoding, int]]:
    """:func:`plan_messages`, each message with its encoding and segments (what the outbox
    stores for it). A text that fits, nearly every one, is measured once."""
    encoding, segments = measured(text)
    if segments <= max_segments:
        return [(text, encoding, segments)]
    return [(part, *measured(part)) for part in plan_messages(text, max_segments)]


def _costs(text: str, encoding: Encoding) -> list[int]:
    if encoding == "ucs2":
        # Python strings hold code points; beyond the BMP UTF-16 needs a surrogate pair.
        return [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    costs: list[int] = []
    for index, ch in enumerate(text):
        if ch in GSM7_BASIC:
            costs.append(1)
        elif ch in GSM7_EXTENSION:
            costs.append(2)
        else:
            raise ValueError(f"character at index {index} is not in the GSM-7 alphabet")
    return costs


def _length(text: str, encoding: Encoding) -> int:
    """What ``sum(_costs(text, encoding))`` gives, counted without a list per character
    (every reply is measured when it is queued). The text must fit the encoding."""
    if encoding == "ucs2":
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    if GSM7_EXTENSION.isdisjoint(text):  # nearly every text: one pass, not ten
        return len(text)
    return len(text) + sum(text.count(ch) for ch in GSM7_EXTENSION)


def _capacities(encoding: Encoding) -> tuple[int, int]:
    return (GSM7_SINGLE, GSM7_MULTI) if encoding == "gsm7" else (UCS2_SINGLE, UCS2_MULTI)


def _part_bounds(text: str, encoding: Encoding) -> list[tuple[int, int]]:
    costs = _costs(text, encoding)
    single, multi = _capacities(encoding)
    if sum(costs) <= single:
        return [(0, len(text))]
    bounds: list[tuple[int, int]] = []
    start, fill = 0, 0
    for index, cost in enumerate(costs):
        if fill + cost > multi:
            bounds.append((start, index))
            start, fill = index, 0
        fill += cost
    bounds.append((start, len(text)))
    return bounds


@dataclass(slots=True)
class _Budget:
    """Follows whether a growing text still fits in ``limit`` segments of one encoding."""

    single: int
    multi: int
    limit: int
    total: int = 0
    parts: int = 1
    fill: int = 0

    def add(self, cost: int) -> None:
        self.total += cost
        if self.fill + cost > self.multi:
            self.parts += 1
            self.fill = 0
        self.fill += cost

    def fits(self) -> bool:
        return self.total <= self.single or self.parts <= self.limit


def _longest_fitting_prefix(text: str, max_segments: int) -> int:
    """Length of the longest prefix of ``text`` that fits in ``max_segments`` segments.

    Fitting is monotone in the prefix: a shorter prefix never needs more
    segments, and when a prefix falls back from GSM-7 to UCS-2 its GSM-7
    prefixes need no more segments than it does.
    """
    gsm = _Budget(GSM7_SINGLE, GSM7_MULTI, max_segments)
    ucs = _Budget(UCS2_SINGLE, UCS2_MULTI, max_segments)
    still_gsm = True
    for index, ch in enumerate(text):
        if still_gsm and ch in GSM7_BASIC:
            gsm.add(1)
        elif still_gsm and ch in GSM7_EXTENSION:
            gsm.add(2)
        else:
            still_gsm = False
        ucs.add(2 if ord(ch) > 0xFFFF else 1)
        if not (gsm.fits() if still_gsm else ucs.fits()):
            return index
    return len(text)


# Whitespace that may end a message; no-break spaces are there to keep words together.
_BREAKING_SPACE: Final = r"[^\S\u00a0\u2007\u202f]"
_PARAGRAPH_BREAK: Final = re.compile(r"\n[^\S\n]*\n")
_LINE_BREAK: Final = re.compile(r"\n")
# Latin, CJK, Arabic and Urdu sentence ends, with any closing quote or bracket.
_SENTENCE_END: Final = re.compile(r"[.!?…。！？؟۔]+[\"'”’»)\]]*(?=" + _BREAKING_SPACE + ")")
_SPACE: Final = re.compile(_BREAKING_SPACE)
_ZERO_WIDTH_JOINERS: Final = frozenset("\u200d\ufe0e\ufe0f")


def _break_point(text: str, fits: int) -> int:
    """Where to end the next message, given that ``text[:fits]`` fits and ``text`` does not."""
    for pattern, after in (
        (_PARAGRAPH_BREAK, False),
        (_LINE_BREAK, False),
        (_SENTENCE_END, True),
        (_SPACE, False),
    ):
        cut = _last_break(pattern, text, fits, after=after)
        if cut is not None:
            return cut
    return _hard_cut(text, fits)


def _last_break(pattern: re.Pattern[str], text: str, fits: int, *, after: bool) -> int | None:
    # A whitespace break may start right at ``fits``: the whitespace itself is dropped.
    # ``text`` starts with a non-space, so any cut after its start leaves a message.
    best: int | None = None
    for match in pattern.finditer(text):
        cut = match.end() if after else match.start()
        if cut > fits:
            break
        if cut > 0:
            best = cut
    return best


def _hard_cut(text: str, fits: int) -> int:
    cut = fits
    while cut > 0 and (_joins_previous(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    # A "word" that is all combining marks has no better place to be cut.
    return cut if cut > 0 else fits


def _joins_previous(ch: str) -> bool:
    return unicodedata.combining(ch) != 0 or ch in _ZERO_WIDTH_JOINERS
