"""Changing a key or points after students answered: the preview lists exactly the attempt scores
that will change, applying changes those and logs it, and an option keeps scores from going
down."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from courseapp.quizzes import attempts, services
from courseapp.quizzes.models import Question, QuestionChange
from courseapp.quizzes.regrading import ScoreChange, question_change
from grading.models import Score, ScoreHistory
from tests.factories import EnrollmentFactory, UserFactory
from tests.quizzes.conftest import by_slug


def answered(quiz, student, **answers):
    attempt = attempts.attempt_start(quiz=quiz, student=student)
    questions = by_slug(attempt)
    for slug, value in answers.items():
        attempts.answer_save(attempt=attempt, question=questions[slug], value=value)
    attempts.answer_save(attempt=attempt, question=questions["why"], value="data")
    attempt = attempts.attempt_submit(attempt=attempt)
    return services.answer_grade_set(attempt=attempt, question=questions["why"], points=0, by=None)


@pytest.fixture
def three_students(week1, course, student, other_student):
    third = UserFactory(username="third")
    EnrollmentFactory(course=course, user=third, role="student")
    answered(week1, student, relu=0)  # right under the old key
    answered(week1, other_student, relu=1)  # right under the new key
    answered(week1, third, adam=True)  # did not answer relu: unchanged either way
    return week1


def test_the_preview_lists_exactly_the_scores_that_will_change_and_changes_nothing(
    three_students, instructor
):
    relu = Question.objects.get(slug="relu")

    preview = question_change(question=relu, key={"answer": 1}, by=instructor)

    assert preview == [ScoreChange("other_student", 1, 0, 1), ScoreChange("student", 1, 1, 0)]
    relu.refresh_from_db()
    assert relu.key == {"answer": 0} and not QuestionChange.objects.exists()
    assert sorted(Score.objects.values_list("student__username", "raw_points")) == [
        ("other_student", 0),
        ("student", 1),
        ("third", 1),
    ]


def test_applying_changes_those_scores_and_logs_who_why_and_what(three_students, instructor):
    relu = Question.objects.get(slug="relu")
    preview = question_change(question=relu, key={"answer": 1}, by=instructor)

    applied = question_change(
        question=relu, key={"answer": 1}, by=instructor, reason="choice 1 is right", apply=True
    )

    assert applied == preview
    log = QuestionChange.objects.get()
    assert (log.old["key"], log.new["key"], log.changed_by) == (
        {"answer": 0},
        {"answer": 1},
        instructor,
    )
    assert [c["student"] for c in log.changed_scores] == ["other_student", "student"]
    assert dict(Score.objects.values_list("student__username", "raw_points")) == {
        "other_student": 1,
        "student": 0,
        "third": 1,
    }
    history = ScoreHistory.objects.filter(score__student__username="student").last()
    assert "relu changed: choice 1 is right" in history.reason and history.changed_by == instructor


def test_keep_higher_means_no_score_goes_down(three_students, instructor):
    relu = Question.objects.get(slug="relu")

    changes = question_change(
        question=relu,
        key={"answer": 1},
        by=instructor,
        reason="both right",
        keep_higher=True,
        apply=True,
    )

    assert changes == [ScoreChange("other_student", 1, 0, 1)]
    assert dict(Score.objects.values_list("student__username", "raw_points"))["student"] == 1


def test_a_change_needs_a_reason_and_a_valid_key(three_students, instructor):
    relu = Question.objects.get(slug="relu")

    with pytest.raises(ValidationError, match="Say why"):
        question_change(question=relu, key={"answer": 1}, by=instructor, apply=True)
    with pytest.raises(ValidationError, match="The new key"):
        question_change(question=relu, key={"answer": 7}, by=instructor)


def test_staff_preview_and_apply_through_the_api(api_as, three_students, instructor, student):
    url = "/api/courses/pmldl/quizzes/week1/questions/relu/change/"
    staff = api_as(instructor)

    preview = staff.post(url, {"key": {"answer": 1}}, format="json")
    applied = staff.post(
        url, {"key": {"answer": 1}, "reason": "typo", "apply": True}, format="json"
    )

    assert preview.status_code == applied.status_code == 200
    assert [c["student"] for c in preview.data] == ["other_student", "student"]
    assert applied.data == preview.data and QuestionChange.objects.count() == 1
    assert api_as(student).post(url, {"key": {"answer": 0}}, format="json").status_code == 403


def test_staff_preview_then_apply_on_the_page(client, three_students, instructor):
    url = "/courses/pmldl/quizzes/week1/questions/relu/change/"
    client.force_login(instructor)
    data = {"key": '{"answer": 1}', "points": "1", "reason": "choice 1 is right"}

    preview = client.post(url, {**data, "preview": "1"}).content.decode()
    assert "Apply: change 2 scores" in preview and "other_student" in preview
    assert not QuestionChange.objects.exists()  # a preview changes nothing

    applied = client.post(url, {**data, "apply": "1"})
    bad = client.post(url, {**data, "key": "{answer: 1", "preview": "1"}).content.decode()

    assert applied.status_code == 302 and QuestionChange.objects.count() == 1
    assert "The key is not JSON" in bad
