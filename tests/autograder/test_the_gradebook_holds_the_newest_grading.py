"""One final score: the gradebook follows the student's newest submission whatever finishes
last, and a grading that lost its claim (staff queued the submission again) records nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from autograder.services.autograde import grade_files
from autograder.services.intake import submission_create
from autograder.services.queue import submission_claim, submission_record, submission_requeue
from autograder.tasks import grade_submission_task
from grading.models import Score
from tests.autograder.nbfactory import student_notebook


def submit(assignment, student, body="    return max(0, x)"):
    return submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook(body)}
    )


@pytest.mark.slow
def test_the_gradebook_keeps_the_newest_submission_whatever_finishes_last(assignment, student):
    first = submit(assignment, student, "    return x")  # wrong: 0 points
    second = submit(assignment, student)  # right: 2 of 3

    grade_submission_task.apply(kwargs={"submission_pk": second.pk}, task_id="s2").get()
    grade_submission_task.apply(kwargs={"submission_pk": first.pk}, task_id="s1").get()

    assert Score.objects.get(student=student, item=assignment.item).raw_points == 2


@pytest.mark.slow
def test_a_grading_that_lost_its_claim_records_nothing(assignment, student):
    submission = submit(assignment, student)
    claimed = submission_claim(submission_pk=submission.pk, token="old")
    grade = grade_files(assignment, {"a1.ipynb": student_notebook()})
    submission_requeue(submission=submission)  # staff fixed a test meanwhile
    submission_claim(submission_pk=submission.pk, token="new")

    stale = submission_record(
        submission=claimed, grade=grade, started_at=timezone.now(), token="old"
    )

    assert stale is None
    assert not Score.objects.filter(student=student).exists()
