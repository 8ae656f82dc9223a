"""An insider who rewrites the ledger and covers their tracks, caught through the real CLI.

Each case first shows the cover-up is complete where it should be (the chains verify),
then that the consent rules or a checkpoint taken before name the participant and event.
"""

from __future__ import annotations

import json
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from consentbot.domain.checkpoint import decode_public_key, public_key_text, sign
from consentbot.domain.checkpoint import parse as parse_checkpoint
from consentbot.domain.provenance import Auth
from consentbot.services.checkpoints import write_checkpoint
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.signing_key import encode_private_key, signing_key
from consentbot.store.tables import ConsentEvent
from tests.conftest import AppClient
from tests.support.cli import consentbot
from tests.support.tamper import (
    drop_last_event,
    drop_participant,
    execute,
    rewrite,
    take_checkpoint,
    two_participants,
    verify_in_process,
)
from tests.support.twilio_fake import FakeTwilio

A1 = "participant 1 (joint-health-records, reference A-1)"
A2 = "participant 2 (joint-health-records, reference A-2)"


async def test_checkpoint_from_the_cli_then_an_edit_that_keeps_the_rules(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await two_participants(client, fake_twilio, clock)
    out = settings.data_dir / "checkpoints" / "first.json"
    out.parent.mkdir()
    made = consentbot(settings, "audit", "checkpoint", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert "checkpoint of 2 participants and 13 events" in made.stderr
    published = consentbot(settings, "audit", "public-key").stdout.strip()
    checkpoint = parse_checkpoint(out.read_text(), decode_public_key(published))
    assert [(p.reference, p.events) for p in checkpoint.participants] == [("A-1", 5), ("A-2", 8)]

    def on_the_web(events: list[ConsentEvent]) -> None:  # "they said yes on the web, not by SMS"
        events[1].channel, events[1].auth = "web", Auth.SMS_CODE

    await rewrite(client, 1, on_the_web)
    assert await verify_in_process(client) == []  # every hash, the head and the rules agree
    result = consentbot(settings, "audit", "verify", "--checkpoint", str(out))
    assert result.returncode == 1
    assert f"fault: {A1}, event 2 (seq 2): changed since the checkpoint of {checkpoint.taken}; " \
           "the hashes of 3 later events differ with it" in result.stderr
    assert "ledger broken: 1 faults in 13 events checked (2 participants)" in result.stderr
    refused = consentbot(settings, "audit", "checkpoint", "--extends", str(out))
    assert refused.returncode == 1
    assert f"fault: {A1}, event 2 (seq 2): changed since the checkpoint" in refused.stderr
    assert refused.stdout == ""


async def test_events_after_the_checkpoint_are_fine(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    phones = await two_participants(client, fake_twilio, clock)
    path = await take_checkpoint(client, settings, clock)
    await phones[0].send("CONFIRM")  # three more events for A-1
    result = consentbot(settings, "audit", "verify", "--checkpoint", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "ledger intact: 16 events checked (2 participants); it matches the checkpoint of "
        "2026-12-02T10:00:00Z (2 participants, 13 events)"
    )


async def test_a_participant_deleted_with_all_its_events(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await two_participants(client, fake_twilio, clock)
    path = await take_checkpoint(client, settings, clock)
    await drop_participant(client, 1)
    assert await verify_in_process(client) == []
    result = consentbot(settings, "audit", "verify", "--checkpoint", str(path))
    assert result.returncode == 1
    assert f"fault: {A1}: removed, with all its 5 events: it was in the checkpoint of 2026-12-02T10:00:00Z" \
        in result.stderr


async def test_a_deleted_last_event(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await two_participants(client, fake_twilio, clock)
    path = await take_checkpoint(client, settings, clock)
    await drop_last_event(client, 2)  # A-2's confirm of 'updates' is gone; it is pending again
    assert await verify_in_process(client) == []
    result = consentbot(settings, "audit", "verify", "--checkpoint", str(path))
    assert result.returncode == 1
    assert f"fault: {A2}, event 13 (seq 8): removed: it was in the checkpoint of" in result.stderr


async def test_a_forged_or_foreign_checkpoint_is_itself_an_error(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await two_participants(client, fake_twilio, clock)
    path = await take_checkpoint(client, settings, clock)
    ours = parse_checkpoint(path.read_text(), our_key(settings))
    document = json.loads(path.read_text())
    document["participants"] = document["participants"][1:]  # hide A-1 before deleting it
    path.write_text(json.dumps(document))
    forged = consentbot(settings, "audit", "verify", "--checkpoint", str(path))
    assert forged.returncode == 1
    assert f"consentbot: checkpoint {path}: signature: does not verify" in forged.stderr
    assert "ledger intact" not in forged.stdout

    # Signed by another deployment's key: refused, unless that key is named explicitly.
    theirs = Ed25519PrivateKey.generate()
    write_checkpoint(path, sign(ours.participants, ours.created_at, theirs))
    foreign = consentbot(settings, "audit", "verify", "--checkpoint", str(path))
    assert foreign.returncode == 1
    assert "public_key: signed by" in foreign.stderr
    assert "not by the trusted key" in foreign.stderr
    named = consentbot(settings, "audit", "verify", "--checkpoint", str(path),
                       "--public-key", public_key_text(theirs.public_key()))
    assert named.returncode == 0, named.stderr
    configured = consentbot(settings.with_(audit_signing_key=encode_private_key(theirs)),
                            "audit", "verify", "--checkpoint", str(path))
    assert configured.returncode == 0, configured.stderr


async def test_an_illegal_transition_with_valid_hashes_needs_no_checkpoint(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await two_participants(client, fake_twilio, clock)

    def activate(events: list[ConsentEvent]) -> None:  # A-1's pending yes made permission
        yes = events[0]
        assert (yes.purpose_id, yes.to_status) == ("records-research", "pending")
        events.append(ConsentEvent(**(yes.model_dump(exclude={"id"}) | {
            "seq": 6, "from_status": "pending", "to_status": "active", "confirm_from": None, "confirm_by": None,
        })))

    await rewrite(client, 1, activate)
    result = consentbot(settings, "audit", "verify")
    assert result.returncode == 1
    assert f"fault: {A2}" not in result.stderr
    assert f"fault: {A1}, event 14 (seq 6): answer-yes from pending changes nothing and is never recorded" \
        in result.stderr
    assert result.stderr.count("fault:") == 1


async def test_a_confirm_moved_before_the_time_to_think_ended(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    await two_participants(client, fake_twilio, clock)

    def hurry(events: list[ConsentEvent]) -> None:
        confirm = events[5]
        assert confirm.action == "confirm"
        confirm.occurred_at -= timedelta(hours=12)

    await rewrite(client, 2, hurry)
    result = consentbot(settings, "audit", "verify")
    assert result.returncode == 1
    assert (
        f"fault: {A2}, event 11 (seq 6): confirmed at 2026-12-01T22:00:00+00:00, before the time to "
        "think of the yes (seq 1) ended at 2026-12-02T10:00:00+00:00"
    ) in result.stderr
    assert result.stderr.count("fault:") == 1


async def test_projection_drift_is_named_by_purpose(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """The research API reads the projection: a pending yes shown there as permission."""
    await two_participants(client, fake_twilio, clock)
    await execute(client, "UPDATE consent_state SET status = 'active', pending_since = NULL "
                          "WHERE participant_id = 1 AND purpose_id = 'records-research'")
    result = consentbot(settings, "audit", "verify")
    assert result.returncode == 1
    assert (
        f"fault: {A1}: current consent of purpose 'records-research' does not match the ledger: "
        "status is active, the ledger gives pending; "
        "pending_since is none, the ledger gives 2026-12-01T10:00:00+00:00"
    ) in result.stderr
    assert result.stderr.count("fault:") == 1


async def test_a_purpose_added_to_what_the_consent_check_reads(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """The consent check reads the participant's permitted purposes alone: a pending yes
    written there would let a pipeline use the data, though consent_state is right."""
    await two_participants(client, fake_twilio, clock)
    await execute(client, "UPDATE participant SET permitted_purposes = ' records-research ' WHERE id = 1")
    result = consentbot(settings, "audit", "verify")
    assert result.returncode == 1
    assert (
        f"fault: {A1}: the consent check would permit records-research, but the ledger permits none"
    ) in result.stderr
    assert result.stderr.count("fault:") == 1


def our_key(settings: Settings) -> Ed25519PublicKey:
    key = signing_key(settings.audit_signing_key, settings.data_dir)
    return key.public_key()
