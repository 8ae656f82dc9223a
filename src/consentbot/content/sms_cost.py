"""What a study's first messages cost, as really sent: the study's words inside the UI text.

The invitation and each topic summary are rendered by the conversation's own
:class:`~consentbot.conversation.messages.Say` with the real catalogs and keywords of
each language, split as the outbox splits them (``planned``) and counted in the
encoding they really go in (GSM-7 when every character allows it, else UCS-2).

The invitation is costed without and with a personal web link. The link is built as
the service builds it (``{public_url}/i/{token}``, the token as long as
:class:`~consentbot.store.links.LinkRepository` makes them); without
``CONSENTBOT_PUBLIC_URL`` a representative https address stands in, and the warning says so.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from consentbot.content.model import Study, StudyCatalogue
from consentbot.content.problems import ContentProblem, Severity
from consentbot.conversation.lexicon import Lexicon
from consentbot.domain.sms_segments import Encoding, planned
from consentbot.i18n.catalogs import Catalogs

REPRESENTATIVE_PUBLIC_URL = "https://consent.example.nhs.uk"
"""Stands in for CONSENTBOT_PUBLIC_URL when it is not set: about as long as a real one."""
LINK_TOKEN_LENGTH = len(secrets.token_urlsafe(24))
"""Characters in a personal link's token (store/links.py makes them with token_urlsafe(24))."""
INVITATION_SEGMENTS: dict[Encoding, int] = {"gsm7": 3, "ucs2": 6}
"""Most segments an invitation should take, per encoding."""
TOPIC_SUMMARY_SEGMENTS = 2
"""Most segments a topic summary message should take."""
ENCODING_NAMES: dict[Encoding, str] = {"gsm7": "GSM-7", "ucs2": "UCS-2"}


def sample_link(public_url: str) -> str:
    """A personal link as the service builds it from ``public_url``, with a made-up token
    of the real length: what it costs in an SMS is what a real one costs."""
    return f"{public_url}/i/{'x' * LINK_TOKEN_LENGTH}"


@dataclass(frozen=True, slots=True)
class Sending:
    """How messages are really sent: the catalogs, the public address and the split size."""

    catalogs: Catalogs
    public_url: str | None = None
    max_segments: int = 6
    """CONSENTBOT_SMS_MAX_SEGMENTS: a longer reply is split into several messages."""

    @classmethod
    def load(
        cls,
        locales_dir: Path,
        public_url: str | None = None,
        max_segments: int = 6,
        region: str = "GB",
    ) -> Sending:
        """Sending with every catalog under ``locales_dir`` (settings: CONSENTBOT_LOCALES_DIR,
        CONSENTBOT_PUBLIC_URL, CONSENTBOT_SMS_MAX_SEGMENTS, CONSENTBOT_DEFAULT_REGION)."""
        return cls(Catalogs.load(locales_dir, region=region), public_url, max_segments)

    def link(self) -> str:
        """A personal link of the real length (its token is made up)."""
        return sample_link(self.public_url or REPRESENTATIVE_PUBLIC_URL)


@dataclass(frozen=True, slots=True)
class SmsCost:
    """Segments a text costs as sent, and the encoding they go in."""

    encoding: Encoding
    segments: int
    messages: int

    def describe(self) -> str:
        """ "4 segments in GSM-7", plus how many messages when it is split."""
        split = f", sent as {self.messages} messages" if self.messages > 1 else ""
        return f"{self.segments} segments in {ENCODING_NAMES[self.encoding]}{split}"


def sms_cost(text: str, max_segments: int) -> SmsCost:
    """What ``text`` costs once the outbox has split it into messages."""
    parts = planned(text, max_segments)
    encoding: Encoding = "ucs2" if any(each == "ucs2" for _, each, _ in parts) else "gsm7"
    return SmsCost(encoding, sum(count for _, _, count in parts), len(parts))


def sms_cost_warnings(study: Study, folder: Path, sending: Sending) -> list[ContentProblem]:
    """Warnings for each language whose invitation or topic summaries cost too many segments."""
    lexicon = Lexicon(sending.catalogs, StudyCatalogue({study.id: study}))
    link = sending.link()
    link_note = "" if sending.public_url else f" (link costed as {link}; set CONSENTBOT_PUBLIC_URL)"
    warnings: list[ContentProblem] = []
    for language in study.languages:
        path = folder / f"{language}.yaml"
        say = lexicon.say(language, study.timezone)
        # As the person gets it: keywords in their words, a stale text in the default language.
        text = say.shown(study.text(language))
        for with_link, body in ((False, say.invitation(text)), (True, say.invitation(text, link))):
            cost = sms_cost(body, sending.max_segments)
            if cost.segments > INVITATION_SEGMENTS[cost.encoding]:
                how = "with a web link" if with_link else "without a web link"
                warnings.append(
                    ContentProblem(
                        path,
                        "summary",
                        f"the invitation {how} is {cost.describe()} "
                        f"(at most {INVITATION_SEGMENTS[cost.encoding]}): "
                        f"shorten the title or summary{link_note if with_link else ''}",
                        Severity.WARNING,
                    )
                )
        for index, topic in enumerate(text.topics):
            cost = sms_cost(say.topic_summary(text, topic), sending.max_segments)
            if cost.segments > TOPIC_SUMMARY_SEGMENTS:
                warnings.append(
                    ContentProblem(
                        path,
                        f"topics[{index}].summary",
                        f"the message showing this summary is {cost.describe()} "
                        f"(at most {TOPIC_SUMMARY_SEGMENTS}): shorten the title or summary",
                        Severity.WARNING,
                    )
                )
    return warnings
