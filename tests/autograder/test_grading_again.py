"""Staff's "grade again", on the page and in the API: every student's newest submission, or one
submission of the assignment; a choice that is not one of its submissions queues nothing."""

from __future__ import annotations

from autograder.models import Submission, SubmissionState
from autograder.selectors import latest_submissions
from autograder.services.intake import submission_create
from tests.autograder.nbfactory import student_notebook


def submit(assignment, student):
    return submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )


def test_grading_everything_again_takes_each_students_newest(assignment, student, other_student):
    submit(assignment, student)
    newest = submit(assignment, student)
    theirs = submit(assignment, other_student)
    Submission.objects.update(state=SubmissionState.GRADED)

    targets = latest_submissions(assignment=assignment)

    assert sorted(s.pk for s in targets) == sorted([newest.pk, theirs.pk])


def test_a_bad_regrade_choice_is_ignored_not_a_500(client, ta, assignment):
    client.force_login(ta)

    response = client.post("/courses/pmldl/assignments/a1/regrade/", {"submission": "abc"})

    assert response.status_code == 302


def test_it_grades_one_submission_again_from_the_page(client, ta, student, assignment):
    submission = submit(assignment, student)
    Submission.objects.update(state=SubmissionState.GRADED, attempts=2)
    client.force_login(ta)

    response = client.post(
        "/courses/pmldl/assignments/a1/regrade/", {"submission": submission.pk}, follow=True
    )

    assert "1 submission(s) queued" in response.content.decode()
    submission.refresh_from_db()
    assert (submission.state, submission.attempts) == (SubmissionState.QUEUED, 0)


def test_it_grades_one_submission_again_from_the_api(api_as, ta, student, assignment):
    submission = submit(assignment, student)
    Submission.objects.update(state=SubmissionState.GRADED)
    url = "/api/courses/pmldl/assignments/a1/regrade/"

    one = api_as(ta).post(url, {"submission": submission.pk}, format="json")
    none = api_as(ta).post(url, {"submission": submission.pk + 1000}, format="json")

    assert (one.json(), none.json()) == ({"queued": 1}, {"queued": 0})
    assert Submission.objects.get().state == SubmissionState.QUEUED


def test_only_staff_grade_again(client, student, ta, assignment):
    submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    client.force_login(student)
    assert client.post("/courses/pmldl/assignments/a1/regrade/").status_code == 403

    client.force_login(ta)
    response = client.post("/courses/pmldl/assignments/a1/regrade/", follow=True)

    assert "1 submission(s) queued" in response.content.decode()
