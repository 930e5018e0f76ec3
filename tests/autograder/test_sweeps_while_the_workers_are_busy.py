"""Beat's sweeps run while every grading worker is busy: they go to the ``maintenance`` queue,
which the housekeeper worker takes (the Procfile's ``housekeeper``), not to ``default`` behind
the gradings, where each one expired unrun until a grading worker was free. So a dead worker's
submission is queued again about a minute on even during a rush. Real processes: a grading
worker kept busy, the housekeeper, beat, the broker and the database."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from autograder.models import Submission, SubmissionState, WorkerHeartbeat
from autograder.services.intake import submission_create
from tests.autograder import brokerside
from tests.autograder.nbfactory import student_notebook
from tests.autograder.test_celery_worker import start_worker, stop_worker
from tests.autograder.test_killed_worker_comes_back import start_beat, wait_for
from tests.autograder.test_worker_grades_a_submission import database_url
from tests.autograder.worker_tasks import hold

pytestmark = pytest.mark.slow


def test_a_dead_workers_submission_is_swept_while_the_grading_worker_is_busy(
    transactional_db, tmp_path, assignment, student
):
    env = {"DATABASE_URL": database_url()}
    logs = [tmp_path / "grader.log", tmp_path / "housekeeper.log", tmp_path / "beat.log"]
    grader = start_worker(["default", "gpu"], logs[0], **env)
    housekeeper = start_worker(["maintenance"], logs[1], **env)
    beat = None
    try:
        wait_for(
            lambda: WorkerHeartbeat.objects.filter(pid=grader.pid).exists(),
            "the grading worker's heartbeat",
            logs,
            120,
        )
        busy = hold.apply_async(args=[240], queue="default")
        wait_for(lambda: busy.state == "STARTED", "the grading worker busy", logs, 120)
        stuck = submission_create(
            assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
        )
        ten_minutes_ago = timezone.now() - datetime.timedelta(minutes=10)
        Submission.objects.filter(pk=stuck.pk).update(
            state=SubmissionState.RUNNING,
            claimed_by="lost-task",
            claimed_worker="gone@nowhere",
            attempts=1,
            state_changed_at=ten_minutes_ago,
        )
        beat = start_beat(logs[2], **env)

        wait_for(
            lambda: Submission.objects.filter(pk=stuck.pk, state="queued").exists(),
            "the sweep by the housekeeper",
            logs,
            180,
        )

        assert busy.state == "STARTED"  # the grading worker never stopped to sweep
    finally:
        for process in (beat, housekeeper, grader):
            if process is not None:
                stop_worker(process)
        brokerside.purge("default")
    stuck.refresh_from_db()
    assert (stuck.claimed_worker, stuck.attempts) == ("", 1)
    assert stuck.sent_at is not None
