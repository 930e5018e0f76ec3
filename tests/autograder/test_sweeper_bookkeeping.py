"""The queue's bookkeeping: ``attempts`` counts the claims since the submission was submitted or
staff last queued it, a submission is given up once (one "Gave up" run, then failed), and a
failure only ends a pending submission, and only for the grading that holds it."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from autograder import sweeper
from autograder.models import Submission, SubmissionState
from autograder.services.intake import submission_create
from autograder.services.queue import (
    MAX_ATTEMPTS,
    assignment_regrade,
    submission_claim,
    submission_fail,
    submission_requeue,
)
from autograder.workers import ALIVE_SECONDS
from tests.autograder import brokerside
from tests.autograder.nbfactory import student_notebook

GAVE_UP = f"Gave up after {MAX_ATTEMPTS} attempts."


@pytest.fixture
def submission(assignment, student):
    made = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    yield made
    brokerside.purge("default")


def gave_up_runs(submission) -> int:
    return submission.runs.filter(error=GAVE_UP).count()


def test_a_staff_regrade_starts_the_attempts_again(submission, django_capture_on_commit_callbacks):
    """Graded, then regraded twice by staff: the first worker death after that is not the
    submission's third strike."""
    for token in ("first", "regrade-1", "regrade-2"):
        if token != "first":
            submission_requeue(submission=submission)
        submission_claim(submission_pk=submission.pk, token=token, worker="gone@host")
    submission.refresh_from_db()
    assert submission.attempts == 1

    late = submission.state_changed_at + datetime.timedelta(seconds=ALIVE_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeper.submissions_requeue_stuck(now=late) == 1  # its worker never beat: gone

    submission.refresh_from_db()
    assert (submission.state, gave_up_runs(submission)) == ("queued", 0)


def test_grading_every_submission_again_starts_their_attempts_again(
    assignment, submission, other_student, django_capture_on_commit_callbacks
):
    theirs = submission_create(
        assignment=assignment, student=other_student, files={"a1.ipynb": student_notebook()}
    )
    Submission.objects.update(state=SubmissionState.FAILED, attempts=MAX_ATTEMPTS)

    with django_capture_on_commit_callbacks(execute=True):
        assert assignment_regrade(assignment=assignment) == 2

    assert set(Submission.objects.values_list("state", "attempts", "claimed_by")) == {
        ("queued", 0, "")
    }
    assert all(s.sent_at for s in Submission.objects.filter(pk__in=[submission.pk, theirs.pk]))


def test_grading_every_submission_again_costs_the_same_queries_for_any_class_size(
    assignment, course, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from tests.factories import EnrollmentFactory, UserFactory

    for n in range(6):
        user = UserFactory(username=f"s{n}")
        EnrollmentFactory(course=course, user=user, role="student")
        submission_create(
            assignment=assignment, student=user, files={"a1.ipynb": student_notebook()}
        )

    # The batch read, one update, the regrade's record; then one update of sent_at.
    with django_assert_max_num_queries(6), django_capture_on_commit_callbacks(execute=True):
        assert assignment_regrade(assignment=assignment) == 6


def test_a_stuck_running_submission_out_of_attempts_is_given_up_once(submission):
    """Swept twice: failed the first time, with one "Gave up" run; the second sweep finds
    nothing to do (a stuck one used to stay as it was and gain a run per sweep)."""
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    Submission.objects.filter(pk=submission.pk).update(
        state=SubmissionState.RUNNING, attempts=MAX_ATTEMPTS, state_changed_at=an_hour_ago
    )

    sweeper.submissions_requeue_stuck()
    sweeper.submissions_requeue_stuck()

    submission.refresh_from_db()
    assert submission.state == SubmissionState.FAILED
    assert gave_up_runs(submission) == 1


def test_a_failure_ends_only_a_pending_submission_and_only_once(submission):
    Submission.objects.filter(pk=submission.pk).update(state=SubmissionState.GRADED)
    assert submission_fail(submission=submission, error="late news") is False

    Submission.objects.filter(pk=submission.pk).update(state=SubmissionState.RUNNING)
    assert submission_fail(submission=submission, error="disk full") is True
    assert submission_fail(submission=submission, error="disk full") is False

    assert Submission.objects.get(pk=submission.pk).state == SubmissionState.FAILED
    assert list(submission.runs.values_list("error", flat=True)) == ["disk full"]


def test_a_superseded_grading_cannot_fail_the_newer_one(submission):
    submission_claim(submission_pk=submission.pk, token="old", worker="w1@host")
    submission_requeue(submission=submission)  # staff fixed a test meanwhile
    submission_claim(submission_pk=submission.pk, token="new", worker="w2@host")

    failed = submission_fail(submission=submission, error="old crash", token="old")

    submission.refresh_from_db()
    assert failed is False
    assert (submission.state, submission.claimed_by) == ("running", "new")
    assert not submission.runs.exists()


def test_the_same_message_that_keeps_killing_its_worker_is_given_up_at_the_limit(submission):
    """A pool process killed mid-grading: the broker delivers the same message again."""
    for _ in range(MAX_ATTEMPTS):
        assert submission_claim(submission_pk=submission.pk, token="t1", worker="w@h")

    again = submission_claim(submission_pk=submission.pk, token="t1", worker="w@h")
    once_more = submission_claim(submission_pk=submission.pk, token="t1", worker="w@h")

    submission.refresh_from_db()
    assert again is None and once_more is None
    assert (submission.state, submission.attempts) == ("failed", MAX_ATTEMPTS)
    assert gave_up_runs(submission) == 1
