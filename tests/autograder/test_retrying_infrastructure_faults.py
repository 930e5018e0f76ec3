"""The grading task retries an infrastructure fault with backoff (the same task id taking the
submission back each time), then fails it for staff; a fault never reaches the gradebook, an
earlier score stands, and a student's own crash is graded once, never retried. Students are told
that grading itself failed; staff also see why."""

from __future__ import annotations

import uuid

import pytest

from autograder import blobs
from autograder.models import AssignmentFile, SubmissionState
from autograder.services.assignments import assignment_import
from autograder.services.intake import submission_create
from autograder.services.queue import submission_claim, submission_fail, submission_requeue
from autograder.tasks import MAX_RETRIES, grade_submission_task
from grading.models import Score
from grading.services.schemes import grading_scheme_create
from tests.autograder.nbfactory import source_bytes, student_notebook
from tests.grading.conftest import LETTERS, SLIDES

pytestmark = pytest.mark.slow


@pytest.fixture
def assignment(course, instructor):
    """A1 with a data file of its own, so that losing it from storage touches no other test."""
    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=LETTERS)
    data = f"x,y\n{uuid.uuid4().hex},2\n".encode()
    return assignment_import(
        course=course,
        slug="fragile",
        title="A1: ReLU",
        files={"a1.ipynb": source_bytes(), "data.csv": data},
    )


def submit(assignment, student, body="    return max(0, x)"):
    return submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook(body)}
    )


def lose_the_data_file(assignment) -> None:
    """Storage lost a file of the assignment (a disk, a bucket): the worker cannot grade."""
    data = AssignmentFile.objects.get(assignment=assignment, name="data.csv")
    blobs.storage().delete(blobs.key_for(data.sha256))


def test_a_missing_file_is_retried_then_failed_for_staff_and_never_scored(assignment, student):
    submission = submit(assignment, student)
    lose_the_data_file(assignment)

    result = grade_submission_task.apply(kwargs={"submission_pk": submission.pk}, task_id="t1")

    assert result.failed()
    submission.refresh_from_db()
    assert (submission.state, submission.score) == (SubmissionState.FAILED, None)
    assert submission.attempts == MAX_RETRIES + 1  # each retry took the submission back
    errors = list(submission.runs.order_by("pk").values_list("error", flat=True))
    assert len(errors) == MAX_RETRIES + 1 and all("FileMissing" in e for e in errors)
    assert [e.startswith("Will be tried again") for e in errors] == [True] * MAX_RETRIES + [False]
    assert not Score.objects.filter(student=student, item=assignment.item).exists()


def test_an_earlier_score_stands_when_grading_it_again_fails(assignment, student):
    submission = submit(assignment, student)
    assert grade_submission_task.apply(kwargs={"submission_pk": submission.pk}).get() == "graded"
    lose_the_data_file(assignment)
    submission_requeue(submission=submission)

    grade_submission_task.apply(kwargs={"submission_pk": submission.pk}, task_id="again")

    submission.refresh_from_db()
    assert (submission.state, submission.score) == (SubmissionState.FAILED, 2)
    score = Score.objects.get(student=student, item=assignment.item)
    assert score.history.count() == 1  # the failure wrote nothing


def test_a_students_crash_is_graded_once_and_never_retried(assignment, student):
    submission = submit(assignment, student, "    return max(0, x)\nimport os\nos._exit(1)")

    result = grade_submission_task.apply(kwargs={"submission_pk": submission.pk}, task_id="t2")

    assert result.get() == "graded"
    submission.refresh_from_db()
    assert (submission.state, submission.attempts, submission.score) == ("graded", 1, 0)


def test_the_student_is_told_grading_failed_and_staff_see_why(
    client, assignment, student, instructor
):
    submission = submit(assignment, student)
    lose_the_data_file(assignment)
    grade_submission_task.apply(kwargs={"submission_pk": submission.pk}, task_id="t3")

    client.force_login(student)
    mine = client.get("/courses/pmldl/assignments/fragile/").content.decode()
    client.force_login(instructor)
    theirs = client.get(
        "/courses/pmldl/assignments/fragile/submissions/1/feedback/", {"student": "student"}
    )

    assert "Grading itself failed" in mine and "not because of your code" in mine
    assert "FileMissing" not in mine  # the reason is for staff
    assert "FileMissing" in theirs.content.decode()


def test_a_pending_retry_is_shown_as_one(client, assignment, student):
    submission = submit(assignment, student)
    submission_claim(submission_pk=submission.pk, token="t4")
    submission_fail(
        submission=submission, error="SandboxDidNotStart: bwrap failed", retry=True, token="t4"
    )

    client.force_login(student)
    page = client.get("/courses/pmldl/assignments/fragile/").content.decode()

    submission.refresh_from_db()
    assert submission.state == SubmissionState.QUEUED  # waiting for its retry
    assert "It will be tried again automatically" in page
    assert "bwrap failed" not in page


def test_autograde_says_grading_itself_failed_instead_of_printing_a_score(assignment, tmp_path):
    from django.core.management import CommandError, call_command

    (tmp_path / "a1.ipynb").write_bytes(student_notebook())
    lose_the_data_file(assignment)

    with pytest.raises(CommandError, match="Grading itself failed: FileMissing"):
        call_command("autograde", "--assignment", "fragile", str(tmp_path / "a1.ipynb"))
