"""Where a field, or a place inside a text, is in a YAML file: its 1-based line.

Field paths are the ones problems name: ``topics[2].detail``, ``purposes.updates.question``,
``reading.grade``. A field that does not exist (a missing key) takes the line of its
nearest existing parent, so the author lands where it belongs.

A place inside a text is found by counting words: the n-th word of the loaded value is
the n-th word of the scalar's source, whatever its style (plain, quoted, ``|`` or ``>``),
because folding and chomping only change whitespace. That puts a long sentence in the
middle of a block scalar on its own line, not on the line of ``detail:``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# libyaml when installed (much faster); its marks are the same character offsets.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ESCAPE = re.compile(r"\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
# Letters, digits and combining marks (Arabic-script vowel signs, ZWNJ) make up a word.
WORD = re.compile(
    r"(?:[^\W_]|[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u200c\u200d])+"
)


def path_steps(field: str) -> list[str | int]:
    """``topics[2].detail`` as ``["topics", 2, "detail"]``."""
    return [int(index) if index else key for key, index in _STEP.findall(field)]


@dataclass(frozen=True, slots=True)
class _Found:
    node: Node
    line: int
    """Line of the key (for a mapping entry) or of the item (for a list item)."""
    exact: bool


class YamlLines:
    """Lines of the fields of one YAML file; every answer is ``None`` when it cannot be parsed."""

    def __init__(self, source: str, root: Node | None) -> None:
        self._source = source
        self._root = root
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]

    @classmethod
    def read(cls, path: Path) -> YamlLines:
        """Compose ``path``; an unreadable or invalid file gives an instance that knows no line."""
        try:
            source = path.read_text(encoding="utf-8")
            root = yaml.compose(source, Loader=_LOADER)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return cls("", None)
        return cls(source, root)

    def line(self, field: str) -> int | None:
        """The line of ``field``, or of its nearest existing parent; ``None`` for the file."""
        found = self._find(field)
        return found.line if found is not None else None

    def text_line(self, field: str, offset: int, value: str) -> int | None:
        """The line of ``value[offset]``, where ``value`` is the text loaded from ``field``.

        ``value`` may be stripped; its words must be the scalar's words. Falls back to the
        field's own line when the words cannot be matched.
        """
        found = self._find(field)
        if found is None:
            return None
        node = found.node
        if not found.exact or not isinstance(node, ScalarNode):
            return found.line
        before = len(WORD.findall(value[:offset]))
        start, end = node.start_mark.index, node.end_mark.index
        if node.style in ("|", ">"):
            # Skip the header (``|-``, ``>2``): its indentation digit is not a word of the text.
            start = self._source.find("\n", start, end) + 1 or end
        region = self._source[start:end]
        if node.style == '"':
            # "\n" is no word "n": blank out escapes, keeping every index where it was.
            region = _ESCAPE.sub(lambda m: " " * len(m.group()), region)
        for index, match in enumerate(WORD.finditer(region)):
            if index == before:
                return self._line_at(start + match.start())
        return node.start_mark.line + 1

    def _line_at(self, index: int) -> int:
        return bisect_right(self._line_starts, index)

    def _find(self, field: str) -> _Found | None:
        if self._root is None or not field:
            return None
        node: Node = self._root
        found: _Found | None = None
        for step in path_steps(field):
            child = _child(node, step)
            if child is None:
                return _Found(found.node, found.line, exact=False) if found else None
            node, line = child
            found = _Found(node, line, exact=True)
        return found


def _child(node: Node, step: str | int) -> tuple[Node, int] | None:
    """The child ``step`` of ``node`` and the line that names it."""
    if isinstance(step, str) and isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == step:
                return value, key.start_mark.line + 1
    if isinstance(step, int) and isinstance(node, SequenceNode) and step < len(node.value):
        item = node.value[step]
        return item, item.start_mark.line + 1
    return None


class LinesCache:
    """Each file's :class:`YamlLines`, composed once per check."""

    def __init__(self) -> None:
        self._files: dict[Path, YamlLines] = {}

    def __call__(self, path: Path) -> YamlLines:
        """The lines of ``path``."""
        if path not in self._files:
            self._files[path] = YamlLines.read(path)
        return self._files[path]
