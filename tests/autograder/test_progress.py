"""Progress where grading takes time: a submission's live status says how long it has waited or
run, "grade every submission again" counts its batch down, and staff see the assignment's scores."""

from __future__ import annotations

import datetime

from django.utils import timezone

from autograder import selectors
from autograder.models import Assignment, Submission, SubmissionState
from autograder.services.intake import submission_create
from autograder.services.queue import assignment_regrade
from grading.services.scores import score_set
from tests.autograder.nbfactory import student_notebook


def submit(assignment, student):
    return submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )


def finish(submission, state: str, *, at=None) -> None:
    Submission.objects.filter(pk=submission.pk).update(
        state=state, state_changed_at=at or timezone.now() + datetime.timedelta(seconds=1)
    )


def test_grading_everything_again_counts_its_batch_down(assignment, student, other_student):
    submit(assignment, student)
    newest = submit(assignment, student)
    other = submit(assignment, other_student)
    finish(newest, SubmissionState.GRADED, at=timezone.now() - datetime.timedelta(hours=1))

    assert selectors.regrade_progress(assignment=assignment) is None
    assert assignment_regrade(assignment=assignment) == 2
    assignment.refresh_from_db()
    assert sorted(assignment.regrade_batch) == sorted([newest.pk, other.pk])

    progress = selectors.regrade_progress(assignment=assignment)
    assert (progress.total, progress.done, progress.finished) == (2, 0, False)
    finish(newest, SubmissionState.GRADED)
    progress = selectors.regrade_progress(assignment=assignment)
    assert (progress.graded, progress.failed, progress.finished) == (1, 0, False)
    finish(other, SubmissionState.FAILED)
    progress = selectors.regrade_progress(assignment=assignment)
    assert (progress.graded, progress.failed, progress.finished) == (1, 1, True)


def test_the_progress_is_on_the_page_and_in_json_for_staff_only(client, assignment, student, ta):
    submit(assignment, student)
    client.force_login(ta)
    client.post("/courses/pmldl/assignments/a1/regrade/")

    html = client.get("/courses/pmldl/assignments/a1/").content.decode()
    data = client.get("/courses/pmldl/assignments/a1/regrade/progress.json").json()

    assert (
        "Grading again" in html and '<span class="done">0</span> of <span class="total">1' in html
    )
    assert data == {"total": 1, "graded": 0, "failed": 0, "finished": False}
    client.force_login(student)
    assert client.get("/courses/pmldl/assignments/a1/regrade/progress.json").status_code == 403
    assert "Grading again" not in client.get("/courses/pmldl/assignments/a1/").content.decode()


def test_the_status_says_since_when_by_the_servers_clock(client, assignment, student, monkeypatch):
    submission = submit(assignment, student)
    client.force_login(student)
    server_now = submission.state_changed_at + datetime.timedelta(seconds=42)
    monkeypatch.setattr(timezone, "now", lambda: server_now)

    html = client.get("/courses/pmldl/assignments/a1/").content.decode()
    data = client.get("/courses/pmldl/assignments/a1/submissions/1/status.json").json()

    since = html.split('class="elapsed muted small" data-since="')[1].split('"')[0]
    assert datetime.datetime.fromisoformat(since) == submission.state_changed_at
    assert data["state"] == "queued"
    now = datetime.datetime.fromisoformat(data["now"])
    assert now == server_now  # the page counts "waiting for 42 s" from these two
    assert now - datetime.datetime.fromisoformat(data["state_changed_at"]) == datetime.timedelta(
        seconds=42
    )


def test_staff_see_the_distribution_of_the_assignments_scores(
    client, assignment, student, other_student, ta
):
    score_set(item=assignment.item, student=student, points=3, by=ta, source="manual")
    score_set(item=assignment.item, student=other_student, points=1, by=ta, source="manual")
    client.force_login(ta)

    html = client.get("/courses/pmldl/assignments/a1/").content.decode()

    assert "A1: ReLU: students by score (from, share of 3 points)" in html
    assert "<title>30%: 1</title>" in html and "<title>90%: 1</title>" in html
    assert Assignment.objects.get().item.max_points == 3
