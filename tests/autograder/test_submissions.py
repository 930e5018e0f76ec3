"""Importing an assignment, submitting to it, and the grading task's bookkeeping."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from autograder import sweeper
from autograder.models import FileRole, Submission, SubmissionState
from autograder.sandbox import isolation_level
from autograder.selectors import assignment_file
from autograder.services.intake import submission_create
from autograder.services.queue import submission_claim
from autograder.tasks import grade_submission_task
from grading.models import Score
from tests.autograder import brokerside
from tests.autograder.nbfactory import source_bytes, student_notebook


def test_importing_makes_the_student_version_and_an_item(assignment):
    release = dict(assignment.files.values_list("role", "name"))

    assert release == {"source": "a1.ipynb", "release": "a1.ipynb", "data": "data.csv"}
    _, student_version = assignment_file(assignment=assignment, role=FileRole.RELEASE)
    assert b"max(0, x)" not in student_version and b"BEGIN HIDDEN TESTS" not in student_version
    assert (assignment.item.name, assignment.item.max_points) == ("A1: ReLU", Decimal(3))


def test_the_import_command_updates_an_assignment(tmp_path, assignment, course):
    (tmp_path / "a1.ipynb").write_bytes(source_bytes())
    out = StringIO()

    call_command(
        "import_assignment",
        "--course",
        "pmldl",
        "--slug",
        "a1",
        str(tmp_path / "a1.ipynb"),
        stdout=out,
    )

    assert "Imported pmldl/a1 (2 files)" in out.getvalue()
    (tmp_path / "x.csv").write_text("1,2\n")
    with pytest.raises(CommandError, match="one or more nbgrader source notebooks"):
        call_command(
            "import_assignment", "--course", "pmldl", "--slug", "a2", str(tmp_path / "x.csv")
        )


def test_a_student_version_and_data_are_downloadable_but_not_the_source(
    client, student, assignment
):
    client.force_login(student)

    page = client.get("/courses/pmldl/assignments/a1/").content.decode()
    download = client.get("/courses/pmldl/assignments/a1/files/a1.ipynb")

    assert "data.csv" in page
    assert download.status_code == 200
    assert b"BEGIN HIDDEN TESTS" not in download.content and b"max(0, x)" not in download.content


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "Upload your notebook"),
        ({"a1.py": b"print(1)"}, "is not a notebook"),
        ({"a1.ipynb": b"{not json"}, "not valid JSON"),
        ({"../a1.ipynb": b"{}"}, "not a plain file name"),
        ({"a.ipynb": b"{}", "b.ipynb": b"{}"}, "Upload one file"),
    ],
)
def test_a_bad_upload_is_refused_clearly(assignment, student, files, message):
    with pytest.raises(ValidationError, match=message):
        submission_create(assignment=assignment, student=student, files=files)
    assert not Submission.objects.exists()


def test_a_submission_is_stored_by_content_and_queued(
    assignment, student, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        submission = submission_create(
            assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
        )

    assert (submission.number, submission.state) == (1, SubmissionState.QUEUED)
    assert len(submission.files.get().sha256) == 64
    assert len(callbacks) == 1  # enqueued only once the transaction commits


def test_the_limit_and_the_cooldown_are_kept(assignment, student):
    assignment.max_submissions, assignment.cooldown_seconds = 2, 3600
    assignment.save()
    submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )

    with pytest.raises(ValidationError, match="wait"):
        submission_create(
            assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
        )
    assignment.cooldown_seconds = 0
    assignment.save()
    submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    with pytest.raises(ValidationError, match="used all 2 submissions"):
        submission_create(
            assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
        )


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


def test_a_student_submits_on_the_page_and_polls_only_their_own_status(
    transactional_db, client, student, other_student, assignment
):
    """Committed for real, so the message goes to the broker before the page answers."""
    client.force_login(student)
    upload = SimpleUploadedFile("a1.ipynb", student_notebook())

    page = client.post("/courses/pmldl/assignments/a1/", {"file": upload}, follow=True)
    brokerside.purge("default")  # no worker here: leave no message for a later test's worker
    status = client.get("/courses/pmldl/assignments/a1/submissions/1/status.json").json()
    client.force_login(other_student)
    theirs = client.get("/courses/pmldl/assignments/a1/submissions/1/status.json")

    assert "Submission #1 is queued" in page.content.decode()
    assert status["state"] == "queued"
    assert theirs.status_code == 404


def test_a_bad_upload_on_the_page_says_why(client, student, assignment):
    client.force_login(student)

    page = client.post(
        "/courses/pmldl/assignments/a1/",
        {"file": SimpleUploadedFile("a1.ipynb", b"{broken")},
        follow=True,
    )

    assert "not valid JSON" in page.content.decode()
    assert not Submission.objects.exists()


def test_only_staff_grade_again(client, student, ta, assignment):
    submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    client.force_login(student)
    assert client.post("/courses/pmldl/assignments/a1/regrade/").status_code == 403

    client.force_login(ta)
    response = client.post("/courses/pmldl/assignments/a1/regrade/", follow=True)

    assert "1 submission(s) queued" in response.content.decode()


@pytest.mark.slow
def test_a_ta_grades_the_written_answer_and_the_gradebook_follows(client, ta, student, assignment):
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    grade_submission_task.apply(kwargs={"submission_pk": submission.pk}, task_id="t1").get()
    client.force_login(ta)

    queue = client.get("/courses/pmldl/assignments/a1/manual/").content.decode()
    saved = client.post(
        "/courses/pmldl/assignments/a1/manual/",
        {"submission": submission.pk, "grade_id": "why_relu", "points": "1", "comment": "Good."},
        follow=True,
    )
    too_many = client.post(
        "/courses/pmldl/assignments/a1/manual/",
        {"submission": submission.pk, "grade_id": "why_relu", "points": "5"},
        follow=True,
    )

    assert "It does not saturate for positive inputs." in queue and "1 answer waiting" in queue
    assert "Saved for student" in saved.content.decode()
    assert "why_relu: points 5 is above the maximum of 1" in too_many.content.decode()
    submission.refresh_from_db()
    assert submission.score == 3
    score = Score.objects.get(student=student, item=assignment.item)
    assert score.raw_points == 3 and score.history.count() == 2
    client.force_login(student)
    page = client.get("/courses/pmldl/assignments/a1/").content.decode()
    assert "Good." in page


def test_a_student_cannot_open_hand_grading(client, student, assignment):
    client.force_login(student)

    assert client.get("/courses/pmldl/assignments/a1/manual/").status_code == 403
