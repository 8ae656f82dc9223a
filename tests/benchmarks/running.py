"""Run a script of ``benchmarks/`` as a user would, with none of the tests' settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_benchmark(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``benchmarks/<script>`` with ``args``; its output is captured, its exit code kept."""
    # The benchmark sets up its own service: no CONSENTBOT_ setting of the test run leaks in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENTBOT_")}
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
