"""The web, the workers and the sweeper may run on machines whose clocks disagree; every time the
queue compares is the database's, so they still agree. A machine's skewed clock is this process's
``timezone.now`` shifted for the length of a block (the database's clock is not touched): the
submission, the grading and the sweep are the real services and task, with the real database
and broker.

- A worker whose clock is five minutes behind the web server's finishes a "grade everything
  again": the progress says done (it used to wait for ever, the grading looking older than the
  regrade).
- A web server whose clock is five minutes ahead stores a submission while the broker is down: the
  sweeper sends it 30 s on, not five and a half minutes on.
"""

from __future__ import annotations

import contextlib
import datetime

import pytest
from django.utils import timezone

from autograder import selectors, sweeper
from autograder.models import Submission
from autograder.services.intake import submission_create
from autograder.services.queue import assignment_regrade
from autograder.tasks import grade_submission_task
from tests.autograder import brokerside
from tests.autograder.nbfactory import student_notebook
from tests.autograder.test_broker_down_at_submit import BrokenBroker

FIVE_MINUTES = datetime.timedelta(minutes=5)


@contextlib.contextmanager
def clock_off_by(offset: datetime.timedelta):
    """This process's clock, ``offset`` from the true one (the database's is not touched)."""
    true_now = timezone.now
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: true_now() + offset)
        yield


def submit(assignment, student) -> Submission:
    return submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )


@pytest.mark.slow
def test_a_regrade_graded_by_a_worker_whose_clock_is_behind_is_done(
    assignment, student, django_capture_on_commit_callbacks
):
    submission = submit(assignment, student)
    assert grade_submission_task.apply(kwargs={"submission_pk": submission.pk}).get() == "graded"
    with django_capture_on_commit_callbacks(execute=True):
        assignment_regrade(assignment=assignment)
    brokerside.purge("default")  # the worker below takes the regrade's place

    with clock_off_by(-FIVE_MINUTES):  # the worker's machine
        regraded = grade_submission_task.apply(kwargs={"submission_pk": submission.pk}).get()

    assignment.refresh_from_db()
    progress = selectors.regrade_progress(assignment=assignment)
    assert regraded == "graded"
    assert (progress.total, progress.graded, progress.finished) == (1, 1, True)


def test_a_submission_stored_by_a_web_server_whose_clock_is_ahead_is_sent_on_time(
    transactional_db, tmp_path, monkeypatch, assignment, student
):
    broker = BrokenBroker("refuses connections", tmp_path)
    with monkeypatch.context() as down, clock_off_by(FIVE_MINUTES):  # the web server's machine
        down.setenv("CELERY_BROKER_WRITE_URL", broker.url)
        submission = submit(assignment, student)
    broker.close()
    submission.refresh_from_db()
    assert submission.sent_at is None
    before = brokerside.waiting("default")
    stored_at = Submission.objects.filter(pk=submission.pk).values_list("created_at", flat=True)[0]
    true_time = stored_at - FIVE_MINUTES  # the database's clock when it was stored, near enough

    try:
        sent = sweeper.submissions_requeue_stuck(
            now=true_time + sweeper.SEND_GRACE + datetime.timedelta(seconds=5)
        )
        assert sent == 1
        assert brokerside.waiting("default") == before + 1
    finally:
        brokerside.purge("default")
