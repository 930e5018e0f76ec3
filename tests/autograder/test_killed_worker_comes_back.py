"""End to end: a worker killed with SIGKILL in the middle of a grading (machine gone, no chance to
say anything) leaves its submission running; a second worker and real beat, on the real broker
and database, give it back and grade it once, after the first worker has been silent past the
heartbeat limit (about a minute, not the sweeper's old twelve). The dead worker's own message,
delivered again later, finds the submission graded and does nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from autograder.models import Submission, WorkerHeartbeat
from autograder.services.intake import submission_create
from autograder.tasks import grade_submission_task
from grading.models import Score
from tests.autograder.nbfactory import student_notebook
from tests.autograder.test_celery_worker import ROOT, start_worker, stop_worker
from tests.autograder.test_worker_grades_a_submission import database_url

pytestmark = pytest.mark.slow


def start_beat(log_path, **extra_env: str) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "courseapp.config.test_settings", **extra_env}
    celery = [sys.executable, "-m", "celery", "-A", "courseapp.config"]
    command = [*celery, "beat", "--loglevel", "INFO"]
    log = log_path.open("w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the worker and everything it started, as if its machine died."""
    family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    for member in family:
        member.kill()
    process.wait(timeout=30)


def wait_for(condition, what: str, logs, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.5)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}" for p in logs)
    raise AssertionError(f"{what}: not within {timeout} s\n{tails}")


def test_a_killed_workers_submission_is_graded_once_by_another(
    transactional_db, tmp_path, assignment, student
):
    env = {"DATABASE_URL": database_url()}
    logs = [tmp_path / "first.log", tmp_path / "second.log", tmp_path / "beat.log"]
    first = start_worker(["default", "gpu"], logs[0], **env)
    second = beat = None
    try:
        wait_for(
            lambda: WorkerHeartbeat.objects.filter(pid=first.pid).exists(),
            "the first worker's heartbeat",
            logs,
            120,
        )
        slow = student_notebook("    return max(0, x)\nimport time\ntime.sleep(8)")
        submission = submission_create(
            assignment=assignment, student=student, files={"a1.ipynb": slow}
        )
        running = wait_for(
            lambda: Submission.objects.filter(pk=submission.pk, state="running").first(),
            "the first worker's claim",
            logs,
            120,
        )
        kill_hard(first)
        # It takes beat's housekeeping too (the Procfile runs a housekeeper of its own for it).
        second = start_worker(["default", "gpu", "maintenance"], logs[1], **env)
        beat = start_beat(logs[2], **env)

        wait_for(
            lambda: Submission.objects.filter(pk=submission.pk, state="graded").exists(),
            "grading by the second worker",
            logs,
            300,
        )
    finally:
        for process in (second, beat):
            if process is not None:
                stop_worker(process)
    submission.refresh_from_db()
    second_name = WorkerHeartbeat.objects.get(pid=second.pid).hostname
    assert (submission.claimed_worker, submission.attempts) == (second_name, 2)
    assert running.claimed_worker != second_name
    assert submission.runs.count() == 1
    assert Score.objects.get(student=student, item=assignment.item).history.count() == 1

    stale = grade_submission_task.apply(
        kwargs={"submission_pk": submission.pk}, task_id=running.claimed_by
    )  # the dead worker's message, delivered again when the broker's visibility timeout ends

    assert stale.get() == "already taken"
    assert submission.runs.count() == 1
