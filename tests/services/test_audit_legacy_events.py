"""Yeses written before their window to confirm was recorded: checked against the study's rules."""

from __future__ import annotations

from datetime import timedelta

from consentbot import keys
from consentbot.content.model import StudyCatalogue
from consentbot.services.audit import LedgerAudit
from consentbot.services.clock import ManualClock
from consentbot.store.tables import ConsentEvent
from tests.conftest import AppClient
from tests.support.tamper import rewrite, two_participants
from tests.support.twilio_fake import FakeTwilio


def as_before_windows(events: list[ConsentEvent]) -> None:
    for event in events:
        event.confirm_from = event.confirm_by = None


async def test_legacy_confirms_use_the_loaded_study_or_warn_when_it_is_unknown(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await two_participants(client, fake_twilio, clock)
    await rewrite(client, 2, as_before_windows)
    db, studies = client.app[keys.DATABASE], client.app[keys.STUDIES]
    assert (await LedgerAudit(db, studies).verify()).findings == []  # confirmed a day later: P1D

    unknown = await LedgerAudit(db, StudyCatalogue({})).verify()
    assert unknown.faults == []
    assert [str(w) for w in unknown.warnings] == [
        f"warning: participant 2 (joint-health-records, reference A-2), event {id} (seq {seq}): "
        f"cannot check when this confirm came: the yes (seq {yes}) has no recorded window and "
        "study 'joint-health-records' is not in the loaded content"
        for id, seq, yes in ((11, 6, 1), (12, 7, 2), (13, 8, 5))
    ]

    def early(events: list[ConsentEvent]) -> None:
        events[5].occurred_at -= timedelta(hours=1)

    await rewrite(client, 2, early)
    [fault] = (await LedgerAudit(db, studies).verify()).faults
    assert (fault.finding.seq, fault.finding.event_id) == (6, 11)
    assert "before the time to think of the yes (seq 1) ended at 2026-12-02T10:00:00+00:00" in fault.finding.problem
