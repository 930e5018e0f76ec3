"""The throughput benchmark runs end to end (a real worker, the broker, a scratch database, the
shipped A1): two submissions here, to keep it working; its numbers are read from a full run,
never asserted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "throughput.py"


@pytest.mark.slow
def test_the_benchmark_grades_every_submission_with_a1s_score():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, str(BENCH), "--submissions", "2", "--concurrency", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "2 A1 submissions, one worker, prefork x1" in done.stdout, done.stdout
    assert "every score is 9, as expected" in done.stdout, done.stdout
    assert "CPU per submission:" in done.stdout and "warm worker process" in done.stdout
