"""benchmarks/sms_journey.py runs end to end on a few patients and prints its figures."""

from __future__ import annotations

import re

from tests.benchmarks.running import run_benchmark

ROW = r"\s+(\d+)\s+([\d.]+)\s+([\d.]+)(?:\s+[\d.]+){4}$"
"""A table row with a rate: count, wall seconds, per second, then four latencies."""


def test_sms_journey_benchmark_counts_turns_while_every_slot_texts() -> None:
    done = run_benchmark("sms_journey.py", "--patients", "8", "--concurrency", "4")

    out = done.stdout
    assert done.returncode == 0, out + done.stderr[-2000:]
    assert "consentbot SMS journey on SQLite: 8 patients, concurrency 4" in out, out
    whole = re.search(r"^journey turn \(reply\)" + ROW, out, re.M)
    full = re.search(r"^  all 4 slots texting" + ROW, out, re.M)
    assert whole, out
    assert full, out
    assert int(whole[1]) == 8 * 12, "every patient's twelve turns"
    # The last patients wait out their cooling-off with no slot: fewer turns, in less time.
    assert 0 < int(full[1]) <= int(whole[1])
    assert 0 < float(full[2]) < float(whole[2])
    assert re.search(r"^floor \(1 SQLite insert\)\s+96\s", out, re.M), out
