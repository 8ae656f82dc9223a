"""Where a participant is in the conversation, stored as JSON between messages."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache


class Layer(StrEnum):
    """How deep into a study's information the person has gone."""

    NONE = "none"
    INVITATION = "invitation"
    TOPICS = "topics"
    TOPIC = "topic"
    DETAIL = "detail"


@dataclass(frozen=True, slots=True)
class ConversationState:
    """One participant's place in one study's conversation."""

    layer: Layer = Layer.NONE
    topic: str | None = None
    asking: str | None = None
    """The purpose whose yes/no question was just asked."""
    queue: tuple[str, ...] = ()
    """Purposes still to ask about after ``asking``."""
    changing: bool = False
    """True when the questions were started by CHANGE rather than a first YES."""
    asked: int = 0
    """How many questions have been asked so far: tells one asking of a question from the next."""
    round_size: int = 0
    """How many questions this round asks ("question 2 of 3"); 0 in states stored before it."""
    who_shown: int = 0
    """Accesses already listed by WHO when more are left: MORE lists the next page. 0 when
    WHO is not being paged (anything but MORE ends the paging)."""

    @property
    def question_id(self) -> str:
        """Names the question now waiting for an answer ("" when none is).

        A web form carries it, so an answer reaches only the question the person saw:
        the same purpose asked again later (after CHANGE) has a different id.
        """
        return f"{self.asking}#{self.asked}" if self.asking is not None else ""

    def ask(self, purposes: tuple[str, ...], *, changing: bool) -> ConversationState:
        """Start asking about ``purposes`` in order."""
        return replace(
            self,
            asking=purposes[0],
            queue=purposes[1:],
            changing=changing,
            asked=self.asked + 1,
            round_size=len(purposes),
        )

    def next_question(self) -> ConversationState:
        """Move on to the next purpose, or finish asking."""
        if self.queue:
            return replace(self, asking=self.queue[0], queue=self.queue[1:], asked=self.asked + 1)
        return replace(self, asking=None, queue=(), changing=False)

    def stop_asking(self) -> ConversationState:
        """Abandon the remaining questions."""
        return replace(self, asking=None, queue=(), changing=False)

    def without(self, purposes: frozenset[str]) -> ConversationState:
        """Stop asking about ``purposes`` (their answer no longer matters)."""
        queue = tuple(p for p in self.queue if p not in purposes)
        if self.asking in purposes:
            return replace(self, queue=queue).next_question()
        return replace(self, queue=queue)

    def at(self, layer: Layer, topic: str | None = None) -> ConversationState:
        """Move to a layer of the study's information."""
        return replace(self, layer=layer, topic=topic)

    def to_json(self) -> str:
        """Serialise for storage."""
        # Field by field rather than dataclasses.asdict, which deep-copies every value:
        # every turn and every reminder stores its state.
        data = {
            "layer": self.layer.value,
            "topic": self.topic,
            "asking": self.asking,
            "queue": list(self.queue),
            "changing": self.changing,
            "asked": self.asked,
            "round_size": self.round_size,
            "who_shown": self.who_shown,
        }
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | None) -> ConversationState:
        """Read a stored state; an empty or unreadable one starts afresh."""
        return _parsed(raw)


@lru_cache(maxsize=4096)
def _parsed(raw: str | None) -> ConversationState:
    """A stored state, parsed once per distinct text: states are immutable, and a turn
    reads its person's state more than once (routing, then the engine), while most people
    stand at one of a few places in the conversation."""
    if not raw:
        return ConversationState()
    try:
        data = json.loads(raw)
        return ConversationState(
            layer=Layer(data.get("layer", Layer.NONE)),
            topic=data.get("topic"),
            asking=data.get("asking"),
            queue=tuple(data.get("queue", ())),
            changing=bool(data.get("changing", False)),
            asked=int(data.get("asked", 0)),
            round_size=int(data.get("round_size", 0)),
            who_shown=int(data.get("who_shown", 0)),
        )
    except (ValueError, TypeError, AttributeError):
        return ConversationState()
