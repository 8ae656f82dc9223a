"""Checkpoints: the documented format and signature, and naming what changed since one."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consentbot.domain.checkpoint import (
    CheckpointEntry,
    CheckpointError,
    canonical_json,
    decode_public_key,
    parse,
    public_key_text,
    sign,
)
from consentbot.domain.checkpoint_match import LedgerNow, match
from consentbot.domain.findings import Severity
from consentbot.domain.ledger_hash import GENESIS

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
AT = datetime(2026, 12, 2, 10, 0, 0, 123456, tzinfo=UTC)


def digest(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def events(*ids: int) -> list[tuple[int, str]]:
    return [(i, digest(i)) for i in ids]


ENTRIES = [
    CheckpointEntry.of(2, "joint-health-records", "L-2", events(4, 5)),
    CheckpointEntry.of(1, "joint-health-records", "L-1", events(1, 2, 3)),
    CheckpointEntry.of(3, "joint-health-records", "K-ABCDEFGH", []),
]


def test_the_file_is_what_docs_audit_md_describes() -> None:
    checkpoint = sign(ENTRIES, AT, KEY)
    document = json.loads(checkpoint.render())
    assert document["format"] == "consentbot-checkpoint/1"
    assert document["created_at"] == "2026-12-02T10:00:00Z"
    assert [p["id"] for p in document["participants"]] == [1, 2, 3]
    assert document["participants"][0] == {
        "id": 1, "study": "joint-health-records", "reference": "L-1", "events": 3,
        "head": digest(3), "hashes": [digest(i)[:16] for i in (1, 2, 3)], "event_ids": [1, 2, 3],
    }
    assert document["participants"][2]["head"] == GENESIS
    lines = "".join(f"{p['id']}:{p['study']}:{p['events']}:{p['head']}\n" for p in document["participants"])
    assert document["root"] == hashlib.sha256(lines.encode()).hexdigest()
    assert base64.b64decode(document["public_key"]) == KEY.public_key().public_bytes_raw()
    # Anyone can check the signature from the published description alone:
    signed = {k: v for k, v in document.items() if k != "signature"}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    KEY.public_key().verify(base64.b64decode(document["signature"]), message)
    assert canonical_json(signed) == message


def test_a_rendered_checkpoint_parses_back_unchanged() -> None:
    checkpoint = sign(ENTRIES, AT, KEY)
    assert parse(checkpoint.render(), KEY.public_key()) == checkpoint
    assert checkpoint.event_count == 5


def test_an_edited_file_fails_its_signature() -> None:
    document = json.loads(sign(ENTRIES, AT, KEY).render())
    document["participants"][0]["events"] = 2
    with pytest.raises(CheckpointError, match="signature: does not verify"):
        parse(json.dumps(document), KEY.public_key())


def test_a_file_re_signed_with_another_key_is_refused() -> None:
    forged = sign(ENTRIES[:1], AT, Ed25519PrivateKey.generate())
    with pytest.raises(CheckpointError, match=r"public_key: signed by .* not by the trusted key"):
        parse(forged.render(), KEY.public_key())
    document = json.loads(forged.render()) | {"public_key": public_key_text(KEY.public_key())}
    with pytest.raises(CheckpointError, match="signature: does not verify"):
        parse(json.dumps(document), KEY.public_key())


def test_a_signed_but_inconsistent_file_names_the_field() -> None:
    def signed(document: dict[str, object]) -> str:
        document = {k: v for k, v in document.items() if k != "signature"}
        signature = base64.b64encode(KEY.sign(canonical_json(document))).decode()
        return json.dumps(document | {"signature": signature})

    good = json.loads(sign(ENTRIES, AT, KEY).render())
    good["participants"][1]["events"] = 3
    with pytest.raises(CheckpointError, match=r"participants\[1\]: events says 3, hashes lists 2"):
        parse(signed(good), KEY.public_key())
    good = json.loads(sign(ENTRIES, AT, KEY).render())
    good["root"] = "0" * 64
    with pytest.raises(CheckpointError, match="root: does not match"):
        parse(signed(good), KEY.public_key())


@pytest.mark.parametrize(
    ("text", "problem"),
    [("[1]", "expected a JSON object"), ("{", "not JSON"), ('{"format": "x/2"}', "format: expected")],
)
def test_malformed_files_are_named(text: str, problem: str) -> None:
    with pytest.raises(CheckpointError, match=problem):
        parse(text, KEY.public_key())


def test_public_keys_round_trip_and_bad_ones_are_refused() -> None:
    text = public_key_text(KEY.public_key())
    assert public_key_text(decode_public_key(text)) == text
    with pytest.raises(CheckpointError, match="base64 of 32 raw bytes"):
        decode_public_key("bm90IGEga2V5")


# --------------------------------------------------------------------------
# Matching today's ledger against a checkpoint

ENTRY = CheckpointEntry.of(1, "joint-health-records", "L-1", events(11, 12, 13))


def now(*chain: tuple[int, int, str], reference: str = "L-1") -> LedgerNow:
    return LedgerNow("joint-health-records", reference, list(chain))


def test_the_same_ledger_with_later_events_matches() -> None:
    assert match(ENTRY, now((11, 1, digest(11)), (12, 2, digest(12)), (13, 3, digest(13))), "T") == []
    assert match(ENTRY, now((11, 1, digest(11)), (12, 2, digest(12)), (13, 3, digest(13)), (20, 4, digest(20))), "T") == []


def test_a_changed_event_is_named_even_with_every_later_hash_recomputed() -> None:
    [finding] = match(ENTRY, now((11, 1, digest(11)), (12, 2, digest(99)), (13, 3, digest(98))), "T")
    assert (finding.severity, finding.seq, finding.event_id) == (Severity.FAULT, 2, 12)
    assert finding.problem == "changed since the checkpoint of T; the hashes of 1 later events differ with it"


def test_removed_events_and_participants_are_named() -> None:
    [last] = match(ENTRY, now((11, 1, digest(11)), (12, 2, digest(12))), "T")
    assert (last.seq, last.event_id, last.problem) == (3, 13, "removed: it was in the checkpoint of T")
    [gone] = match(ENTRY, None, "T")
    assert gone.problem == "removed, with all its 3 events: it was in the checkpoint of T"


def test_a_head_that_differs_beyond_the_prefix_is_named() -> None:
    forged = digest(13)[:16] + "0" * 48
    [finding] = match(ENTRY, now((11, 1, digest(11)), (12, 2, digest(12)), (13, 3, forged)), "T")
    assert (finding.seq, finding.event_id) == (3, 13)
    assert "not the head" in finding.problem


def test_a_reassigned_reference_is_named() -> None:
    chain = [(11, 1, digest(11)), (12, 2, digest(12)), (13, 3, digest(13))]
    [finding] = match(ENTRY, now(*chain, reference="L-9"), "T")
    assert finding.problem == "reference was 'L-1' at the checkpoint of T, now 'L-9'"


def test_an_empty_ledger_has_a_checkpoint_too() -> None:
    checkpoint = sign([], AT, KEY)
    assert '"participants": [],' in checkpoint.render()
    assert parse(checkpoint.render(), KEY.public_key()).root == hashlib.sha256(b"").hexdigest()
