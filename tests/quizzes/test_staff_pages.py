"""Staff pages of a quiz: hand grading free-text answers (by question, across students), the
statistics once the quiz has closed, and accommodations; students reach none of them."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from courseapp.quizzes import attempts, services
from courseapp.quizzes.models import Accommodation, Quiz
from courseapp.quizzes.statistics import quiz_statistics
from grading.models import Score
from tests.factories import EnrollmentFactory, UserFactory
from tests.quizzes.conftest import RIGHT, by_slug

GRADING = "/courses/pmldl/quizzes/week1/grading/why/"


def take(quiz, student, answers: dict):
    attempt = attempts.attempt_start(quiz=quiz, student=student)
    questions = by_slug(attempt)
    for slug, value in answers.items():
        attempts.answer_save(attempt=attempt, question=questions[slug], value=value)
    return attempts.attempt_submit(attempt=attempt)


def test_a_ta_grades_free_text_answers_across_students_and_the_scores_flow(
    client, week1, ta, student, other_student
):
    take(week1, student, RIGHT)
    take(week1, other_student, {"why": "no idea"})
    client.force_login(ta)

    page = client.get(GRADING).content.decode()
    response = client.post(
        GRADING,
        {
            f"points-{week1.attempts.get(student=student).pk}": "2",
            f"feedback-{week1.attempts.get(student=student).pk}": "Both parts.",
            f"points-{week1.attempts.get(student=other_student).pk}": "",  # left waiting
        },
    )

    assert "Deep nets need a lot of data." in page and "no idea" in page
    assert response.status_code == 302
    assert Score.objects.get(item=week1.item, student=student).raw_points == 10
    assert not Score.objects.filter(item=week1.item, student=other_student).exists()
    queue = client.get("/courses/pmldl/quizzes/week1/grading/").content.decode()
    assert 'class="badge warn">1<' in queue


def test_points_above_the_questions_are_refused_with_the_student_named(client, week1, ta, student):
    attempt = take(week1, student, RIGHT)
    client.force_login(ta)

    response = client.post(GRADING, {f"points-{attempt.pk}": "5"})

    assert response.status_code == 200 and "student:" in response.content.decode()
    assert attempt.grades.get(question__slug="why").points is None


def test_statistics_after_close_give_means_choices_and_discrimination(week1, course, ta):
    students = []
    for n in range(4):
        user = UserFactory(username=f"s{n}")
        EnrollmentFactory(course=course, user=user, role="student")
        students.append(user)
    # s0 and s1 do well and get relu right; s2 and s3 do badly and get it wrong
    for user, good in zip(students, [True, True, False, False], strict=True):
        answers = {**RIGHT} if good else {"relu": 1, "why": "?"}
        attempt = take(week1, user, answers)
        services.answer_grade_set(
            attempt=attempt, question=by_slug(attempt)["why"], points=2 if good else 0, by=ta
        )

    stats = quiz_statistics(quiz=week1)

    relu = next(q for q in stats.questions if q.question.slug == "relu")
    assert stats.attempts == 4 and relu.mean == 0.5
    assert relu.options == [("ReLU", 0.5), ("sigmoid", 0.5), ("tanh", 0.0)]
    assert relu.discrimination == pytest.approx(1.0)
    assert [bar.count for bar in stats.scores.bars] == [2, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    # Per question, in the table's order: relu right half the time, why 2 of 2 points half the time
    shares = dict(
        zip(
            [q.question.slug for q in stats.questions],
            [bar.count for bar in stats.per_question.bars],
            strict=True,
        )
    )
    assert shares["relu"] == 50 and shares["why"] == 50 and shares["adam"] == 50
    assert [bar.label for bar in stats.per_question.bars][:2] == ["Q1", "Q2"]


def test_the_statistics_page_waits_for_the_close_and_is_for_staff(
    client, week1, instructor, student
):
    client.force_login(instructor)
    before = client.get("/courses/pmldl/quizzes/week1/stats/").content.decode()
    Quiz.objects.update(
        opens_at=timezone.now() - datetime.timedelta(hours=2),
        closes_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    after = client.get("/courses/pmldl/quizzes/week1/stats/").content.decode()
    client.force_login(student)

    assert "shown once the quiz closes" in before and "No fully graded attempts" in after
    assert client.get("/courses/pmldl/quizzes/week1/stats/").status_code == 403
    assert client.get(GRADING).status_code == 403


def test_staff_set_an_accommodation_on_its_page(client, week1, instructor, student):
    attempt = attempts.attempt_start(quiz=week1, student=student)
    client.force_login(instructor)

    page = client.get("/courses/pmldl/quizzes/accommodations/").content.decode()
    response = client.post(
        "/courses/pmldl/quizzes/accommodations/",
        {"username": "student", "time_factor": "2", "extra_minutes": "0", "extra_attempts": "1"},
    )

    assert "Save student" in page and response.status_code == 302
    assert Accommodation.objects.get().extra_attempts == 1
    attempt.refresh_from_db()
    assert attempt.deadline - attempt.started_at == datetime.timedelta(minutes=20)


def test_a_wrong_row_is_named_and_the_right_rows_are_saved(
    client, week1, ta, student, other_student
):
    mine, theirs = take(week1, student, RIGHT), take(week1, other_student, {"why": "no idea"})
    client.force_login(ta)

    response = client.post(GRADING, {f"points-{mine.pk}": "5", f"points-{theirs.pk}": "1"})

    assert response.status_code == 200 and "student:" in response.content.decode()
    assert mine.grades.get(question__slug="why").points is None
    assert theirs.grades.get(question__slug="why").points == 1
