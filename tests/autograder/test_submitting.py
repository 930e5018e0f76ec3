"""A student submits, on the page or by the service: a bad upload is refused with the reason, a
good one is stored by content and queued once the transaction commits, within the limit and the
cooldown; each student polls only their own status."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from autograder.models import Submission, SubmissionState
from autograder.services.intake import submission_create
from tests.autograder import brokerside
from tests.autograder.nbfactory import student_notebook


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
