"""benchmarks/memory.py runs end to end on a few conversations and prints its figures."""

from __future__ import annotations

import re

from tests.benchmarks.running import run_benchmark


def test_memory_benchmark_reports_its_figures_next_to_the_floor() -> None:
    done = run_benchmark("memory.py", "--patients", "12", "--concurrency", "4")

    out = done.stdout
    assert done.returncode == 0, out + done.stderr[-2000:]
    assert "12 conversations in progress" in out
    for line in ("floor (app built, no patient)", "after 6 patients (warm-up)", "after 12 patients"):
        assert re.search(rf"{re.escape(line)}\s+VmRSS +[\d.]+ MB +VmHWM +[\d.]+ MB", out), out
    assert re.search(r"per 1,000 conversations: -?[\d.]+ MB over the floor", out), out
    # Half answered everything (a reminder and an expiry each), half said LATER mid-questions.
    assert "participants 12, pending timers 18, with a pending timer 12" in out, out
    assert "confirm-reminder 6, later 6" in out, out
    assert "with any consent active 0" in out, out
    assert "NOT HONEST" not in out
    assert re.search(r"^PASS: peak [\d.]+ MB resident \(VmHWM\) against the 200 MB target$", out, re.M), out
