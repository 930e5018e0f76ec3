"""Ctrl-C on `make run` while a grading is in flight: the Procfile's own worker line, under
`make run`'s honcho (``deploy/dev.py``), gets the SIGINT as a terminal sends it. The worker
finishes the grading and says so; nothing prints an error ("ForkPoolWorker exited with signal
15", a traceback); the exit status is 0 (issue 17, "the embedded default keeps working")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from autograder.models import Submission
from autograder.services.intake import submission_create
from tests.autograder.nbfactory import student_notebook
from tests.autograder.test_worker_grades_a_submission import database_url

ROOT = Path(__file__).resolve().parents[2]
ROUGH = ("exited with signal", "Traceback", "ERROR", "CRITICAL", "Error")
pytestmark = pytest.mark.slow


def procfile_line(role: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{role}:"):
            return line
    raise AssertionError(f"no {role} in the Procfile")


def start_make_runs_worker(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    procfile = tmp_path / "Procfile"
    procfile.write_text(procfile_line("worker") + "\n")
    log = tmp_path / "honcho.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "courseapp.config.test_settings",
        "VAR_DIR": str(settings.VAR_DIR),
        "DATABASE_URL": database_url(),
    }
    with log.open("w") as out:
        honcho = subprocess.Popen(
            [sys.executable, "deploy/dev.py", "-f", str(procfile), "-d", str(ROOT)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return honcho, log


def test_ctrl_c_finishes_the_grading_in_flight_and_says_so(
    transactional_db, tmp_path, assignment, student
):
    honcho, log = start_make_runs_worker(tmp_path)
    try:
        # A cell that takes a while, so that the Ctrl-C lands while it runs.
        notebook = student_notebook(extra_cells=["import time\ntime.sleep(6)"])
        submission = submission_create(
            assignment=assignment, student=student, files={"a1.ipynb": notebook}
        )
        deadline = time.monotonic() + 300
        while submission.state == "queued" and time.monotonic() < deadline:
            assert honcho.poll() is None, log.read_text()[-4000:]
            time.sleep(0.05)
            submission.refresh_from_db()
        assert submission.state == "running", log.read_text()[-4000:]

        honcho.send_signal(signal.SIGINT)  # what a terminal's Ctrl-C sends it
        status = honcho.wait(timeout=300)
    finally:
        if honcho.poll() is None:
            honcho.kill()
            honcho.wait()

    output = log.read_text()
    submission = Submission.objects.get(pk=submission.pk)
    assert status == 0, output[-4000:]
    assert "finishing 1 task(s) in flight" in output, output[-4000:]
    assert not [word for word in ROUGH if word in output], output[-4000:]
    assert submission.state == "graded", output[-4000:]
    assert submission.attempts == 1


def start_worker_role(tmp_path: Path, name: str) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"{name}.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "courseapp.config.test_settings",
        "VAR_DIR": str(settings.VAR_DIR),
        "DATABASE_URL": database_url(),
        "WORKER_NAME": name,
        "WORKER_CONCURRENCY": "1",
        "WORKER_QUEUES": "default,gpu",
    }
    with log.open("w") as out:
        worker = subprocess.Popen(
            [str(ROOT / "deploy" / "bin" / "worker")], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return worker, log


def test_sigquit_hands_the_grading_in_flight_back_to_the_next_worker(
    transactional_db, tmp_path, assignment, student
):
    first, first_log = start_worker_role(tmp_path, "first")
    second = None
    try:
        notebook = student_notebook(extra_cells=["import time\ntime.sleep(30)"])
        submission = submission_create(
            assignment=assignment, student=student, files={"a1.ipynb": notebook}
        )
        deadline = time.monotonic() + 300
        while submission.state == "queued" and time.monotonic() < deadline:
            assert first.poll() is None, first_log.read_text()[-4000:]
            time.sleep(0.05)
            submission.refresh_from_db()
        assert submission.state == "running", first_log.read_text()[-4000:]

        first.send_signal(signal.SIGQUIT)
        # 0: a unit's Restart=on-failure does not start it again
        assert first.wait(timeout=120) == 0, first_log.read_text()[-4000:]
        second, second_log = start_worker_role(tmp_path, "second")
        deadline = time.monotonic() + 300
        while submission.state != "graded" and time.monotonic() < deadline:
            assert second.poll() is None, second_log.read_text()[-4000:]
            time.sleep(0.2)
            submission.refresh_from_db()
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=120)

    output = first_log.read_text()
    assert "handed back to the queue" in output, output[-4000:]
    assert "Restoring 1 unacknowledged message(s)" in output, output[-4000:]
    assert submission.state == "graded", second_log.read_text()[-4000:]
    assert submission.attempts == 2  # the first worker's claim, then the second's
