"""What a second reading of the autograder found: the gradebook follows the newest submission,
a stale grading does not overwrite a newer one, floods of output and crashing uploads are
results, and a submission that keeps killing workers is given up on."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from autograder import sweeper
from autograder.grader import grade_notebook
from autograder.models import Submission, SubmissionState
from autograder.sandbox import Limits
from autograder.selectors import latest_submissions
from autograder.services.grade import grade_files
from autograder.services.intake import submission_create
from autograder.services.queue import (
    MAX_ATTEMPTS,
    submission_claim,
    submission_record,
    submission_requeue,
)
from autograder.tasks import grade_submission_task
from grading.models import Score
from tests.autograder.nbfactory import source_bytes, student_notebook


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


def test_grading_everything_again_takes_each_students_newest(assignment, student, other_student):
    submit(assignment, student)
    newest = submit(assignment, student)
    theirs = submit(assignment, other_student)
    Submission.objects.update(state=SubmissionState.GRADED)

    targets = latest_submissions(assignment=assignment)

    assert sorted(s.pk for s in targets) == sorted([newest.pk, theirs.pk])


def test_a_submission_that_keeps_killing_workers_is_given_up(assignment, student):
    submission = submit(assignment, student)
    Submission.objects.filter(pk=submission.pk).update(
        state=SubmissionState.RUNNING, attempts=MAX_ATTEMPTS,
        state_changed_at=timezone.now() - datetime.timedelta(hours=3),
    )  # fmt: skip

    assert sweeper.submissions_requeue_stuck() == 0
    submission.refresh_from_db()
    assert submission.state == SubmissionState.FAILED
    assert "Gave up after 3 attempts" in submission.runs.get().error


def test_a_bad_regrade_choice_is_ignored_not_a_500(client, ta, assignment):
    client.force_login(ta)

    response = client.post("/courses/pmldl/assignments/a1/regrade/", {"submission": "abc"})

    assert response.status_code == 302


@pytest.mark.slow
def test_a_flood_of_output_in_a_cell_costs_its_output_not_the_grade():
    flood = "    return max(0, x)\nprint('x' * 5_000_000)"
    result = grade_notebook(
        source=source_bytes(), submitted=student_notebook(flood), data_files={},
        limits=Limits(wall_seconds=60, memory_bytes=1536 * 2**20, output_bytes=64 * 1024),
        cell_timeout=20,
    )  # fmt: skip

    assert {t.name: t.score for t in result.tests}["test_relu"] == 2
    assert b"output cut" in result.executed


@pytest.mark.slow
def test_students_see_notes_but_not_the_sandbox_log(client, student, assignment):
    submission = submit(
        assignment, student, "    return max(0, x)\nimport os\nos.write(2, b'RAW-STDERR')"
    )
    grade_submission_task.apply(kwargs={"submission_pk": submission.pk}, task_id="n1").get()
    client.force_login(student)

    page = client.get("/courses/pmldl/assignments/a1/").content.decode()

    assert "RAW-STDERR" in submission.runs.get().log  # staff have it
    assert "RAW-STDERR" not in page
