"""The grading task's bookkeeping: a claim is taken once, the task grades and writes the gradebook
once, stuck submissions are queued again, and ``autograde`` grades a file without a submission."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from autograder import sweeper
from autograder.models import Submission, SubmissionState
from autograder.sandbox import isolation_level
from autograder.services.intake import submission_create
from autograder.services.queue import submission_claim
from autograder.tasks import grade_submission_task
from grading.models import Score
from tests.autograder.nbfactory import student_notebook


def test_a_claim_is_taken_once_and_again_only_by_the_same_delivery(assignment, student):
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )

    first = submission_claim(submission_pk=submission.pk, token="task-1")
    other = submission_claim(submission_pk=submission.pk, token="task-2")
    redelivered = submission_claim(submission_pk=submission.pk, token="task-1")

    assert first is not None and other is None and redelivered is not None
    assert Submission.objects.get(pk=submission.pk).attempts == 2


@pytest.mark.slow
def test_the_task_grades_and_writes_the_gradebook_once(assignment, student):
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )

    first = grade_submission_task.apply(kwargs={"submission_pk": submission.pk}, task_id="t1").get()
    again = grade_submission_task.apply(kwargs={"submission_pk": submission.pk}, task_id="t2").get()

    submission.refresh_from_db()
    assert (first, again) == ("graded", "already taken")
    assert (submission.state, submission.score, submission.max_score) == ("graded", 2, 3)
    run = submission.runs.get()
    assert run.isolation == isolation_level() and run.tests[0]["status"] == "passed"
    score = Score.objects.get(student=student, item=assignment.item)
    assert (score.raw_points, score.source) == (Decimal(2), "autograder")  # 2/3 of 3 points
    assert score.history.count() == 1


def test_stuck_submissions_are_queued_again(assignment, student):
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    Submission.objects.filter(pk=submission.pk).update(
        state=SubmissionState.RUNNING, state_changed_at=timezone.now() - datetime.timedelta(hours=3)
    )

    assert sweeper.submissions_requeue_stuck() == 1
    assert Submission.objects.get(pk=submission.pk).state == SubmissionState.QUEUED
    assert sweeper.submissions_requeue_stuck() == 0


@pytest.mark.slow
def test_autograde_prints_results_json_without_a_submission(tmp_path, assignment):
    path = tmp_path / "mine.ipynb"
    path.write_bytes(student_notebook("    return x"))
    out = StringIO()

    call_command("autograde", "--assignment", "a1", str(path), "--json", stdout=out)

    results = json.loads(out.getvalue())
    assert results["score"] == 0
    assert [t["name"] for t in results["tests"]] == ["test_relu", "why_relu"]
    assert not Submission.objects.exists()
