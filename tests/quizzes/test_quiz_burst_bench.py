"""The quiz burst benchmark runs end to end (gunicorn, a load process, the count): a handful of
students here, to keep it working; its numbers are read from a full run, never asserted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "quiz_burst.py"


@pytest.mark.slow
def test_the_benchmark_runs_and_finds_every_saved_answer_in_the_database(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--students",
            "4",
            "--ramp",
            "0.5",
            "--duration",
            "1",
            "--save-every",
            "0.3",
            "--workers",
            "1",
            "--threads",
            "4",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "(equal)" in done.stdout and "attempts submitted: 4 of 4" in done.stdout, done.stdout
    assert "errors: 0" in done.stdout
