"""The engine tested directly: real content and catalogs, no database, no channel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import pytest

from consentbot.content.loader import load_catalogue
from consentbot.content.model import Study, StudyCatalogue
from consentbot.conversation.engine import Context, invite, respond
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.outcome import SetLanguage, StartMessages, StopMessages, Turn
from consentbot.conversation.state import ConversationState
from consentbot.domain.cooling_off import PurposeConsent
from consentbot.domain.status import ConsentStatus
from consentbot.i18n.catalogs import Catalogs
from tests.support.journey import ROOT, STUDY

T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


@cache
def shared_studies() -> StudyCatalogue:
    """The shipped content, loaded once (hypothesis tests cannot take fixtures per example)."""
    return load_catalogue(ROOT / "content")


@cache
def shared_lexicon() -> Lexicon:
    """The shipped catalogs, loaded once."""
    return Lexicon(Catalogs.load(ROOT / "locales"), shared_studies())


@pytest.fixture(scope="session")
def studies() -> StudyCatalogue:
    return shared_studies()


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    return shared_lexicon()


@dataclass
class Conversation:
    """A participant as the engine sees them, updated from each turn as the service would."""

    study: Study
    lexicon: Lexicon
    now: datetime = T0
    language: str = "en"
    stopped: bool = False
    state: ConversationState = field(default_factory=ConversationState)
    consent: dict[str, PurposeConsent] = field(default_factory=dict)
    last: Turn | None = None

    def context(self) -> Context:
        return Context(self.study, self.language, self.lexicon, dict(self.consent), self.now, self.stopped)

    def apply(self, turn: Turn) -> Turn:
        for change in turn.changes:
            pending = self.now if change.to_status is ConsentStatus.PENDING else None
            self.consent[change.purpose] = PurposeConsent(change.to_status, self.now, pending)
        for effect in turn.effects:
            if isinstance(effect, SetLanguage):
                self.language = effect.language
            elif isinstance(effect, StopMessages | StartMessages):
                self.stopped = isinstance(effect, StopMessages)
        self.state = turn.state
        self.last = turn
        return turn

    def invite(self) -> str:
        return self._text(self.apply(invite(self.context(), self.state)))

    def send(self, text: str, *, seen_question: str | None = None) -> str:
        intent = self.lexicon.read(text, [self.language], [self.study.id])
        turn = respond(self.context(), self.state, intent, seen_question=seen_question)
        return self._text(self.apply(turn))

    @staticmethod
    def _text(turn: Turn) -> str:
        return "\n\n".join(reply.text for reply in turn.replies)

    def statuses(self) -> Mapping[str, str]:
        return {p: self.consent.get(p, PurposeConsent(ConsentStatus.NONE)).status.value for p in self.study.purpose_ids}


@pytest.fixture
def conversation(studies: StudyCatalogue, lexicon: Lexicon) -> Conversation:
    study = studies.get(STUDY)
    assert study is not None
    return Conversation(study, lexicon)

