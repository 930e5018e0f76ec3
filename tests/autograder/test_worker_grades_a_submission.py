"""End to end: a student's submission, committed to the real database, is taken from the real
broker by a real worker process, graded in the sandbox, and its score lands in the gradebook."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from autograder.models import Submission
from autograder.services.intake import submission_create
from grading.models import Score
from tests.autograder.nbfactory import student_notebook
from tests.autograder.test_celery_worker import (
    start_worker,
    stop_worker,
    wait_until_graded_or_failed,
)

pytestmark = pytest.mark.slow


def database_url() -> str:
    """The test database, as a URL the worker process can use."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user, host = config["USER"] or "postgres", config["HOST"] or "127.0.0.1"
    return f"postgres://{user}@{host}:{config['PORT'] or 5432}/{config['NAME']}"


def test_a_worker_grades_a_submission_into_the_gradebook(
    transactional_db, tmp_path, assignment, student
):
    worker = start_worker(["default", "gpu"], tmp_path / "worker.log", DATABASE_URL=database_url())
    try:
        submission = submission_create(
            assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
        )
        wait_until_graded_or_failed(submission, worker, timeout=120)
    finally:
        stop_worker(worker)
    log = (tmp_path / "worker.log").read_text()[-3000:]
    assert submission.state == "graded", log
    assert (submission.score, submission.attempts) == (2, 1)
    assert Score.objects.get(student=student, item=assignment.item).source == "autograder"
    assert Submission.objects.get(pk=submission.pk).runs.get().worker


def test_a_worker_process_killed_mid_run_leaves_the_submission_to_be_graded_once(
    transactional_db, tmp_path, assignment, student
):
    import psutil

    slow = student_notebook("    return max(0, x)\nimport time\ntime.sleep(6)")
    worker = start_worker(
        ["default", "gpu"], tmp_path / "worker.log", DATABASE_URL=database_url(), POOL="prefork"
    )
    try:
        submission = submission_create(
            assignment=assignment, student=student, files={"a1.ipynb": slow}
        )
        wait_for_state(submission, "running", worker)
        [child] = psutil.Process(worker.pid).children()  # the pool process grading it
        child.kill()
        wait_for_state(submission, "graded", worker)
    finally:
        stop_worker(worker)
    submission.refresh_from_db()
    assert submission.attempts == 2  # the same message, delivered again after the kill
    assert submission.runs.count() == 1
    assert Score.objects.get(student=student, item=assignment.item).history.count() == 1


def wait_for_state(submission, state: str, worker, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        submission.refresh_from_db()
        if submission.state == state:
            return
        if worker.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"submission stayed {submission.state}, not {state}")


def test_a_gpu_assignment_is_graded_by_a_gpu_queue_worker_with_references_on_its_device(
    transactional_db, tmp_path, course, student
):
    """A1 as shipped, marked as wanting a GPU, goes to the ``gpu`` queue only; a worker listening
    there alone takes it and computes the references on its best device (``cuda`` where it has
    one, which is how this runs on a GPU machine), and the reference solution scores full marks."""
    from autograder.checks.reference import best_device
    from autograder.services.assignments import assignment_import
    from grading.services.schemes import grading_scheme_create
    from tests.autograder.shipped import FOLDER, Shipped
    from tests.grading.conftest import LETTERS, SLIDES

    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    files = {f.name: f.read_bytes() for f in (FOLDER / "a1").iterdir() if f.is_file()}
    a1 = assignment_import(course=course, slug="a1", title="A1", files=files)
    a1.wants_gpu = True
    a1.save(update_fields=["wants_gpu"])
    shipped = Shipped("a1")

    worker = start_worker(["gpu"], tmp_path / "worker.log", DATABASE_URL=database_url())
    try:
        submission = submission_create(
            assignment=a1, student=student, files={"a1.ipynb": shipped.source}
        )
        wait_for_state(submission, "graded", worker, timeout=300)
    finally:
        stop_worker(worker)
    run = submission.runs.get()
    device = best_device()
    assert run.device == device, run.log[-2000:]  # graded, so by the one worker, on gpu
    assert f"Reference checks ran on {device}." in run.notes
    assert submission.score == sum(shipped.full.values())  # the written answer waits for a TA
