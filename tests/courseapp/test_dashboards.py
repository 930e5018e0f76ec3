"""The course's home page by role: a student's dashboard shows their own quizzes, assignments,
grade and requests; the staff dashboard shows what waits for grading and the workers' health."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from autograder.models import Assignment, GradingRun, Submission, WorkerHeartbeat
from autograder.services.queue import submission_fail
from courseapp.demo.services import demo_seed
from courseapp.quizzes import attempts as quiz_attempts
from courseapp.quizzes import services as quiz_services
from courseapp.quizzes.models import Attempt, AttemptState, Combine, Question, Quiz
from grading.models import GradedItem
from grading.services.regrades import regrade_request_create
from grading.services.scores import extension_grant, score_set
from tests.factories import CourseFactory, EnrollmentFactory

User = get_user_model()


@pytest.fixture
def demo(db):
    return demo_seed(with_admin=False).course


def user(name: str):
    return User.objects.get(username=name)


def page(client, username: str) -> str:
    client.force_login(user(username))
    response = client.get("/courses/pmldl/")
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def submit_quiz(username: str, free_text: str):
    quiz = Quiz.objects.get(slug="week1")
    attempt = quiz_attempts.attempt_start(quiz=quiz, student=user(username))
    question = Question.objects.get(quiz=quiz, slug="limitation")
    quiz_attempts.answer_save(attempt=attempt, question=question, value=free_text)
    return quiz_attempts.attempt_submit(attempt=attempt)


def test_a_student_sees_their_quizzes_assignments_grade_and_requests(client, demo):
    me, instructor = user("student01"), user("instructor")
    quiz_services.accommodation_set(course=demo, student=me, time_factor="1.5")
    a2 = Assignment.objects.get(slug="a2")
    extension_grant(
        item=a2.item,
        student=me,
        due_at=a2.item.due_at + datetime.timedelta(days=3),
        reason="illness",
        by=instructor,
    )
    a1 = Assignment.objects.get(slug="a1")
    a1.max_submissions = 5
    a1.save()
    Submission.objects.create(
        assignment=a1, student=me, number=1, state="graded", score=7, max_score=10
    )
    quiz2 = GradedItem.objects.get(name="Quiz 2")  # a paper quiz, scored by hand
    score = score_set(item=quiz2, student=me, points=6, by=instructor, source="manual")
    regrade_request_create(score=score, student=me, message="Question 3 was right.")

    html = page(client, "student01")

    quiz = Quiz.objects.get(slug="week1")
    assert f"{quiz.title}</strong>" in html
    assert "15 min once started" in html  # 10 minutes × 1.5, the student's own time
    assert "Take the quiz" in html
    assert "Take " + quiz.title + " before it closes." in html  # what to do next
    row = re.search(r"A2: training deep networks</a></td> <td>([^<]*)<span class=\"tag\">", html)
    assert row and "extended for you" in html
    due = timezone.localtime(
        a2.item.due_at + datetime.timedelta(days=3), zoneinfo.ZoneInfo(demo.timezone)
    )
    assert due.strftime("%-d %b") in row.group(1)
    assert '#1 <span class="badge state-graded">Graded</span> 7 / 10' in html
    assert "4 of 5" in html  # submissions left
    grades = html[html.index("My grade") :]
    assert 'href="/courses/pmldl/grades/"' in grades and "badge letter-" in grades
    assert 'Quiz 2</strong></a> <span class="badge status-open">Open</span>' in html
    # Another student's data is nowhere: a classmate's name, and staff-only sections.
    assert "student02" not in html and "Bogdan" not in html
    assert "Grading workers" not in html and "Gradebook" not in html


def test_a_student_with_nothing_to_do_is_told_what_comes_next(client, demo):
    Quiz.objects.update(
        opens_at=timezone.now() + datetime.timedelta(days=30),
        closes_at=timezone.now() + datetime.timedelta(days=31),
    )
    Assignment.objects.all().delete()

    html = page(client, "student02")

    assert "No quiz is open or coming up in the next two weeks." in html
    assert "No assignments have been published yet." in html
    assert "None. If you disagree with a score" in html


@pytest.mark.parametrize(
    ("combine", "scores", "shown"),
    [
        (Combine.HIGHEST, [9, 4], "Submitted: <strong>9 / 10</strong>"),
        (Combine.LAST, [9, 4], "Submitted: <strong>4 / 10</strong>"),
        (Combine.HIGHEST, [None, 6], "Submitted: <strong>6 / 10</strong>"),
        (Combine.LAST, [6, None], "Submitted, waiting for a TA"),
    ],
)
def test_a_students_quiz_shows_the_score_that_counts(client, demo, combine, scores, shown):
    """The score the gradebook takes (``counted_attempt``), not simply the highest one."""
    quiz = Quiz.objects.get(slug="week1")
    # The points show at once: what is shown is the score that counts.
    Quiz.objects.filter(pk=quiz.pk).update(
        combine=combine, attempts_allowed=2, review="after_submit"
    )
    now = timezone.now()
    for number, score in enumerate(scores, start=1):
        Attempt.objects.create(
            quiz=quiz,
            student=user("student01"),
            number=number,
            state=AttemptState.SUBMITTED,
            started_at=now,
            deadline=now,
            submitted_at=now,
            score=score,
            max_score=10,
        )

    html = page(client, "student01")

    assert f"{quiz.title}</strong></a>" in html and shown in html


def test_the_staff_dashboard_lists_what_waits_for_grading(client, demo):
    a1 = Assignment.objects.get(slug="a1")
    queued = Submission.objects.create(assignment=a1, student=user("student03"), number=1)
    assert queued.state == "queued"
    failed = Submission.objects.create(
        assignment=a1, student=user("student04"), number=1, state="running"
    )
    submission_fail(submission=failed, error="RuntimeError('disk full')")
    graded = Submission.objects.create(
        assignment=a1, student=user("student05"), number=1, state="graded"
    )
    GradingRun.objects.create(
        submission=graded,
        worker="w",
        isolation="bubblewrap",
        started_at=timezone.now(),
        tests=[
            {"name": "written", "status": "manual", "score": None, "max_score": "2"},
            {"name": "relu", "status": "passed", "score": "2", "max_score": "2"},
        ],
    )
    submit_quiz("student06", "They need a lot of data.")
    submit_quiz("student07", "Hard to interpret.")
    quiz2 = GradedItem.objects.get(name="Quiz 2")  # a paper quiz, scored by hand
    score = score_set(item=quiz2, student=user("student08"), points=6, by=None, source="manual")
    regrade_request_create(score=score, student=user("student08"), message="Please look again.")

    html = page(client, "ta")

    assert "<strong>1</strong> submission queued or being graded" in html
    assert "A1: neural network basics #1 of student04" in html
    assert (
        "<strong>1</strong> answer to grade by hand in "
        '<a href="/courses/pmldl/assignments/a1/manual/">A1: neural network basics</a>' in html
    )
    quiz = Quiz.objects.get(slug="week1")
    assert (
        f"<strong>2</strong> answers to grade by hand in "
        f'<a href="/courses/pmldl/quizzes/week1/grading/">{quiz.title}</a>' in html
    )
    assert '<strong>1</strong> open <a href="/courses/pmldl/regrades/">regrade request</a>' in html
    assert "6 to look at" in html  # 1 queued, 1 failed, 1 + 2 by hand, 1 request
    assert "0 attempts in progress · 12 of 20 students submitted" in html  # the demo's 10 + 2
    shortcuts = html.split('aria-label="Shortcuts">')[1].split("</nav>")[0]
    for shortcut in (
        "Gradebook",
        "Import scores (CSV)",
        "Extensions",
        "Import a quiz",
        "Import an assignment",
        "Publish items",
    ):
        assert f">{shortcut}" in shortcuts, shortcuts
    assert "No worker has reported yet" in html


def test_the_staff_dashboard_shows_each_workers_isolation_and_the_queues(client, demo):
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        hostname="gpu1@lab",
        queues=["default", "gpu"],
        isolation="bubblewrap",
        device="cuda",
        pid=10,
        started_at=now,
        last_seen_at=now,
    )
    WorkerHeartbeat.objects.create(
        hostname="old@laptop",
        queues=["default"],
        isolation="rlimits",
        pid=11,
        started_at=now,
        last_seen_at=now - datetime.timedelta(minutes=10),
    )
    a1 = Assignment.objects.get(slug="a1")
    Submission.objects.create(assignment=a1, student=user("student03"), number=1)

    html = page(client, "instructor")

    assert (
        'gpu1@lab</td> <td><span class="badge state-graded">alive</span></td> <td>bubblewrap'
        in html
    )
    assert (
        'old@laptop</td> <td><span class="badge state-failed">silent</span></td> <td>rlimits'
        in html
    )
    assert "weaker: no namespaces" in html
    assert re.search(r"<code>default</code></td><td>\d+</td><td>1</td><td>0</td> <td>1</td>", html)
    assert re.search(r"<code>gpu</code></td><td>\d+</td><td>0</td><td>0</td> <td>1</td>", html)
    assert "The broker did not answer" not in html


def test_every_section_of_the_course_is_in_its_navigation_by_role(client, demo):
    student_nav = page(client, "student01").split('aria-label="pmldl sections"')[1]
    staff_nav = page(client, "ta").split('aria-label="pmldl sections"')[1]

    assert 'href="/courses/pmldl/" aria-current="page">Home' in student_nav
    for label in ("Quizzes", "Assignments", "My grades", "Grading scheme", "Course"):
        assert f">{label}</a>" in student_nav
    assert "Gradebook" not in student_nav.split("</nav>")[0]
    for label in ("Gradebook", "Assignments", "Quizzes", "Regrade requests", "Extensions"):
        assert f">{label}</a>" in staff_nav
    client.force_login(user("ta"))
    html = client.get("/courses/pmldl/gradebook/").content.decode()
    assert 'href="/courses/pmldl/gradebook/" aria-current="page">Gradebook' in html


def test_someone_in_several_courses_picks_one_first(client, demo):
    other = CourseFactory(code="dl2", title="Deep Learning II")
    EnrollmentFactory(course=other, user=user("student01"), role="student")
    client.force_login(user("student01"))

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Deep Learning II" in html and "Practical Machine Learning and Deep Learning" in html


def test_extensions_are_listed_and_granted_on_their_page(client, demo):
    client.force_login(user("instructor"))
    a2 = GradedItem.objects.get(name="A2: training deep networks")
    later = timezone.localtime(a2.due_at, zoneinfo.ZoneInfo(demo.timezone)) + datetime.timedelta(
        days=2
    )

    response = client.post(
        "/courses/pmldl/extensions/",
        {
            "student": "student09",
            "item": a2.pk,
            "due_at": later.strftime("%Y-%m-%dT%H:%M"),
            "reason": "hospital",
        },
        follow=True,
    )

    html = response.content.decode()
    assert "may hand in A2: training deep networks until" in html
    assert a2.extensions.get(student__username="student09").reason == "hospital"
    assert "Granted (1)" in html and "hospital" in html
    earlier = timezone.localtime(a2.due_at, zoneinfo.ZoneInfo(demo.timezone)) - datetime.timedelta(
        days=2
    )
    response = client.post(
        "/courses/pmldl/extensions/",
        {
            "student": "student09",
            "item": a2.pk,
            "due_at": earlier.strftime("%Y-%m-%dT%H:%M"),
        },
        follow=True,
    )
    assert "moves the due date later, not earlier" in response.content.decode()
    client.force_login(user("student01"))
    assert client.get("/courses/pmldl/extensions/").status_code == 403
