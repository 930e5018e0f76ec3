"""The project's configuration (``courseapp.config``) sits above the apps: importing the domain
package does not start Celery, and the worker finds the Celery app under ``courseapp.config``.

Each case runs in a fresh interpreter, since this test process has long loaded both.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_it_does_not_load_celery_when_the_domain_package_is_imported():
    loaded = python(
        "import sys, courseapp, courseapp.courses, courseapp.quizzes, grading, autograder\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'celery', 'kombu'}))"
    )

    assert loaded == "[]"


def test_the_worker_finds_the_project_celery_app_under_courseapp_config():
    found = python(
        "from celery.app.utils import find_app\n"
        "from courseapp.config.celery import app\n"
        "print(find_app('courseapp.config') is app, app.main)"
    )

    assert found == "True courseapp"
