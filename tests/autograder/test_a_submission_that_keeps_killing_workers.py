"""A submission whose grading killed its worker on every claim is given up on, for staff."""

from __future__ import annotations

import datetime

from django.utils import timezone

from autograder import sweeper
from autograder.models import Submission, SubmissionState
from autograder.services.intake import submission_create
from autograder.services.queue import MAX_ATTEMPTS
from tests.autograder.nbfactory import student_notebook


def test_a_submission_that_keeps_killing_workers_is_given_up(assignment, student):
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    Submission.objects.filter(pk=submission.pk).update(
        state=SubmissionState.RUNNING,
        attempts=MAX_ATTEMPTS,
        state_changed_at=timezone.now() - datetime.timedelta(hours=3),
    )

    assert sweeper.submissions_requeue_stuck() == 0
    submission.refresh_from_db()
    assert submission.state == SubmissionState.FAILED
    assert "Gave up after 3 attempts" in submission.runs.get().error
