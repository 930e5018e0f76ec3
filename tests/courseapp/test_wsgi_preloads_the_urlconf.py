"""Loading the WSGI application loads the URLconf and what it imports (gunicorn --preload then
does it once, before the workers fork), so no worker's first request pays for it; it leaves
no database connection for the workers to inherit; and what it loaded is frozen out of the
garbage collector's reach, so that no request pays for a full collection walking it. In a fresh
interpreter: the test session has imported everything already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.courseapp.test_settings_from_environment import clean_env

ROOT = Path(__file__).resolve().parents[2]
LOAD_THE_APPLICATION = """
import gc, json, sys
from courseapp.config.wsgi import application
from django.db import connections
print(json.dumps({
    "modules": sorted(sys.modules),
    "open_connections": [c.alias for c in connections.all() if c.connection is not None],
    "frozen": gc.get_freeze_count(),
    "reads_left_to_compile": [
        r.build.__qualname__ for r in __import__("courseapp.prepared").prepared._ALL
        if r._shape is None
    ],
    "collected": len(gc.get_objects()),
}))
"""
URLCONFS = [
    "courseapp.config.urls",
    "courseapp.courses.api.urls",
    "courseapp.courses.urls",
    "courseapp.quizzes.api.urls",
    "courseapp.quizzes.urls",
    "autograder.api.urls",
    "autograder.urls",
    "grading.api.urls",
    "grading.urls",
]


def _load(tmp_path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_THE_APPLICATION],
        cwd=ROOT,
        env=clean_env(VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_it_imports_every_urlconf_and_what_they_pull_in_when_the_application_loads(tmp_path):
    found = _load(tmp_path)

    missing = [m for m in URLCONFS if m not in found["modules"]]
    assert missing == []
    # The heaviest import behind the pages: the notebook schema's URI grammar.
    assert {"courseapp.dashboard.selectors", "nbformat", "rfc3987_syntax"} <= set(found["modules"])
    assert found["open_connections"] == []


def test_what_the_application_loaded_is_frozen_out_of_the_collectors_reach(tmp_path):
    # A full collection walked every object loaded (about 250,000: ~125 ms of CPU in the middle
    # of some student's request); frozen, a worker's collections see only what requests made.
    found = _load(tmp_path)

    assert found["frozen"] > 100_000
    assert found["collected"] < found["frozen"] / 10


def test_exam_days_reads_are_compiled_before_the_workers_fork(tmp_path):
    # Otherwise every worker's first start, save and submit compile them (each a few compiles),
    # all at the moment a class starts: the slowest starts of the quiz burst were those.
    found = _load(tmp_path)

    assert found["reads_left_to_compile"] == []
