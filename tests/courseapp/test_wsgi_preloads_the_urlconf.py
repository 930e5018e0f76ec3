"""Loading the WSGI application loads the URLconf and what it imports (gunicorn --preload then
does it once, before the workers fork), so no worker's first request pays for it; and it leaves
no database connection for the workers to inherit. In a fresh interpreter: the test session has
imported everything already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.courseapp.test_settings_from_environment import clean_env

ROOT = Path(__file__).resolve().parents[2]
LOAD_THE_APPLICATION = """
import json, sys
from courseapp.config.wsgi import application
from django.db import connections
print(json.dumps({
    "modules": sorted(sys.modules),
    "open_connections": [c.alias for c in connections.all() if c.connection is not None],
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


def test_it_imports_every_urlconf_and_what_they_pull_in_when_the_application_loads(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", LOAD_THE_APPLICATION],
        cwd=ROOT,
        env=clean_env(VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])

    missing = [m for m in URLCONFS if m not in found["modules"]]
    assert missing == []
    # The heaviest import behind the pages: the notebook schema's URI grammar.
    assert {"courseapp.dashboard.selectors", "nbformat", "rfc3987_syntax"} <= set(found["modules"])
    assert found["open_connections"] == []
