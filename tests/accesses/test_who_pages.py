"""WHO's pages, as a property: every access shown once, newest first, each page within budget."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from consentbot.conversation.access_messages import who_page
from consentbot.domain.accesses import AccessorKind, AccessSeen
from consentbot.domain.sms_segments import segment_count
from tests.conversation.conftest import T0, shared_lexicon

LONDON = ZoneInfo("Europe/London")
TITLES = {"records-research": "Research on your records"}


@settings(max_examples=60, deadline=None)
@given(
    language=st.sampled_from(["en", "cy", "pl", "ur"]),
    names=st.lists(st.text(alphabet="abcdefghij KLMNOP", min_size=1, max_size=60), max_size=40),
    kinds=st.lists(st.sampled_from(list(AccessorKind)), min_size=40, max_size=40),
    max_segments=st.integers(min_value=1, max_value=8),
)
def test_pages_show_every_access_once_within_the_budget(
    language: str, names: list[str], kinds: list[AccessorKind], max_segments: int
) -> None:
    say = shared_lexicon().say(language, LONDON)
    accesses = [
        AccessSeen("records-research", name, "Org", kind, T0 - timedelta(days=n))
        for n, (name, kind) in enumerate(zip(names, kinds, strict=False))
    ]
    start, listed = 0, 0
    while start < len(accesses):
        page = who_page(say, accesses, TITLES, start=start, max_segments=max_segments)
        count = page.shown - start
        assert count >= 1
        if count > 1:
            assert segment_count(page.text) <= max_segments
        assert page.more_left == (page.shown < len(accesses))
        assert page.text.count(say.t.isolate("Org")) == count  # one line per access shown
        listed += count
        start = page.shown
    assert listed == len(accesses)
