"""The TA's hand-grading page shows each written answer with the question the student read and the
mark scheme from the source notebook; students never get the scheme (nor the page). A TA's points
reach the submission's total and the gradebook; a grade for no submission is a 404."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from autograder import selectors
from autograder.models import Assignment, GradingRun, ManualGrade, Submission
from autograder.services.intake import submission_create
from autograder.tasks import grade_submission_task
from courseapp.demo.services import demo_seed
from grading.models import Score
from tests.autograder.nbfactory import student_notebook


def test_the_question_and_mark_scheme_are_shown_to_the_ta(client, db):
    demo_seed(with_admin=False)
    a1 = Assignment.objects.get(slug="a1")
    student = get_user_model().objects.get(username="student01")
    submission = Submission.objects.create(assignment=a1, student=student, number=1, state="graded")
    GradingRun.objects.create(
        submission=submission,
        worker="w",
        isolation="bubblewrap",
        started_at=timezone.now(),
        tests=[{"name": "why_nonsaturating", "status": "manual", "score": None, "max_score": "1"}],
    )

    prompts = selectors.written_prompts(assignment=a1)
    client.force_login(get_user_model().objects.get(username="ta"))
    html = client.get("/courses/pmldl/assignments/a1/manual/").content.decode()

    assert set(prompts) == {"why_nonsaturating"}
    assert prompts["why_nonsaturating"].question.startswith("## 5. In words")
    assert prompts["why_nonsaturating"].scheme.startswith("1 point: the sigmoid saturates")
    assert "Why do ReLU, leaky ReLU and ELU train deep networks better" in html
    assert "Mark scheme (staff only)" in html and "1 point: the sigmoid saturates" in html
    client.force_login(student)
    assert client.get("/courses/pmldl/assignments/a1/manual/").status_code == 403


def test_the_staff_home_counts_what_the_hand_grading_page_lists(db, django_assert_num_queries):
    """Both take each student's latest graded submission and its latest successful run, and
    count a cell as waiting until it has a hand grade; the count is a fixed number of queries."""
    demo_seed(with_admin=False)
    a1 = Assignment.objects.get(slug="a1")
    users = get_user_model().objects
    now = timezone.now()

    def graded(student, number, *runs):
        submission = Submission.objects.create(
            assignment=a1, student=users.get(username=student), number=number, state="graded"
        )
        for seconds, cells, error in runs:
            tests = [
                {"name": c, "status": "manual", "score": None, "max_score": "1"} for c in cells
            ]
            GradingRun.objects.create(
                submission=submission,
                worker="w",
                isolation="bubblewrap",
                started_at=now + timezone.timedelta(seconds=seconds),
                tests=tests,
                error=error,
            )
        return submission

    graded("student01", 1, (0, ["old"], ""))  # superseded by submission 2
    graded("student01", 2, (0, ["was"], ""), (5, ["why"], ""), (9, ["broken"], "crashed"))
    done = graded("student02", 1, (0, ["why"], ""))
    ManualGrade.objects.create(submission=done, grade_id="why", points=1)
    graded("student03", 1, (0, ["why", "how"], ""))

    waiting = [
        (c.submission.student.username, c.grade_id)
        for c in selectors.manual_grading_queue(assignment=a1)
        if c.grade is None
    ]
    course = a1.course
    with django_assert_num_queries(4):
        counted = selectors.hand_grading_waiting(course=course)

    assert sorted(waiting) == [("student01", "why"), ("student03", "how"), ("student03", "why")]
    assert [(a.slug, n) for a, n in counted] == [("a1", 3)]


def test_a_hand_grade_for_no_submission_is_a_404(client, ta, assignment):
    client.force_login(ta)
    url = "/courses/pmldl/assignments/a1/manual/"

    for chosen in ("", "abc", "12345"):
        response = client.post(url, {"submission": chosen, "grade_id": "why_relu", "points": "1"})
        assert response.status_code == 404


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
