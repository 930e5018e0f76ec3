"""An infrastructure fault's retry that arrives after staff (or the sweeper) queued the submission
again does nothing: the fresh message grades it, with its own tries. The old retry used to take
the fresh submission, and when it was the old grading's last try, fail it for staff after one
attempt of the regrade. The grading task runs in this process against the real database; the
fault is real (a data file of the assignment lost from storage)."""

from __future__ import annotations

import uuid

import pytest

from autograder import blobs
from autograder.models import AssignmentFile, Submission, SubmissionState
from autograder.services.assignments import assignment_import
from autograder.services.intake import submission_create
from autograder.services.queue import submission_claim, submission_fail, submission_requeue
from autograder.tasks import MAX_RETRIES, grade_submission_task
from grading.services.schemes import grading_scheme_create
from tests.autograder import brokerside
from tests.autograder.nbfactory import source_bytes, student_notebook
from tests.grading.conftest import LETTERS, SLIDES

pytestmark = pytest.mark.slow


@pytest.fixture
def assignment(course, instructor):
    """A1 with a data file of its own, so that losing it touches no other test."""
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    data = f"x,y\n{uuid.uuid4().hex},2\n".encode()
    return assignment_import(
        course=course, slug="requeued", files={"a1.ipynb": source_bytes(), "data.csv": data}
    )


@pytest.fixture
def awaiting_retry(assignment, student):
    """Its first grading (task ``old``) met a fault and waits for its retry."""
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    submission_claim(submission_pk=submission.pk, token="old", worker="w1@host")
    submission_fail(
        submission=submission, error="SandboxDidNotStart: bwrap", retry=True, token="old"
    )
    yield submission
    brokerside.purge("default")


def lose_the_data_file(assignment) -> None:
    data = AssignmentFile.objects.get(assignment=assignment, name="data.csv")
    blobs.storage().delete(blobs.key_for(data.sha256))


def test_the_old_last_retry_leaves_a_regraded_submission_to_the_new_message(
    assignment, awaiting_retry, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submission_requeue(submission=awaiting_retry)  # staff: grade it again
    lose_the_data_file(assignment)  # the fault is still there

    old = grade_submission_task.apply(
        kwargs={"submission_pk": awaiting_retry.pk}, task_id="old", retries=MAX_RETRIES
    )

    assert old.get() == "already taken"
    awaiting_retry.refresh_from_db()
    assert (awaiting_retry.state, awaiting_retry.attempts) == (SubmissionState.QUEUED, 0)
    assert not awaiting_retry.runs.filter(error__startswith="FileMissing").exists()


def test_the_new_message_grades_it_and_the_old_retry_then_does_nothing(
    awaiting_retry, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submission_requeue(submission=awaiting_retry)

    new = grade_submission_task.apply(kwargs={"submission_pk": awaiting_retry.pk}, task_id="new")
    old = grade_submission_task.apply(
        kwargs={"submission_pk": awaiting_retry.pk}, task_id="old", retries=1
    )

    assert (new.get(), old.get()) == ("graded", "already taken")
    graded = Submission.objects.get(pk=awaiting_retry.pk)
    assert (graded.state, graded.claimed_by, graded.attempts) == ("graded", "new", 1)
    assert graded.runs.filter(error="").count() == 1


def test_a_retry_still_takes_back_the_submission_that_waits_for_it(awaiting_retry):
    retried = grade_submission_task.apply(
        kwargs={"submission_pk": awaiting_retry.pk}, task_id="old", retries=1
    )

    assert retried.get() == "graded"
    awaiting_retry.refresh_from_db()
    assert (awaiting_retry.state, awaiting_retry.attempts) == ("graded", 2)
