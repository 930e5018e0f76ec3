"""Taking a quiz, by the server's clock: the deadline, saves before and after it, the beat task
that submits abandoned attempts, accommodations, and the score in the gradebook."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from courseapp.demo.services import demo_seed
from courseapp.quizzes import attempts, selectors, services
from courseapp.quizzes.authoring import quiz_import
from courseapp.quizzes.models import AnswerSave, Attempt, AttemptState, Question, Quiz
from courseapp.quizzes.scoring import AnswerError
from courseapp.quizzes.tasks import close_overdue_attempts_task
from grading.models import Score
from grading.selectors import gradebook_for_course
from grading.services.scores import graded_item_update
from tests.factories import EnrollmentFactory, UserFactory
from tests.quizzes.conftest import QUESTIONS, RIGHT, by_slug, quiz_yaml

SECOND = datetime.timedelta(seconds=1)


def test_the_deadline_is_the_start_plus_the_limit(week1, student):
    attempt = attempts.attempt_start(quiz=week1, student=student)

    assert attempt.deadline - attempt.started_at == datetime.timedelta(minutes=10)
    assert attempt.number == 1 and attempt.state == AttemptState.OPEN


def test_the_deadline_never_passes_the_quiz_close(week1, student):
    late_start = week1.closes_at - datetime.timedelta(minutes=3)

    attempt = attempts.attempt_start(quiz=week1, student=student, now=late_start)

    assert attempt.deadline == week1.closes_at


def test_a_reload_or_a_second_tab_continues_the_same_attempt(week1, student):
    first = attempts.attempt_start(quiz=week1, student=student)
    again = attempts.attempt_start(quiz=week1, student=student)

    assert again.pk == first.pk and again.layout == first.layout


def test_a_save_before_the_deadline_and_grace_is_kept(week1, student):
    attempt = attempts.attempt_start(quiz=week1, student=student)
    question = by_slug(attempt)["relu"]
    last_moment = attempt.deadline + attempts.GRACE

    saved = attempts.answer_save(attempt=attempt, question=question, value=0, now=last_moment)

    assert saved.accepted and saved.message == ""


def test_a_save_one_second_after_deadline_and_grace_is_refused_and_the_last_answer_stands(
    week1, student
):
    attempt = attempts.attempt_start(quiz=week1, student=student)
    question = by_slug(attempt)["relu"]
    attempts.answer_save(attempt=attempt, question=question, value=0, now=attempt.deadline)

    too_late = attempt.deadline + attempts.GRACE + SECOND
    refused = attempts.answer_save(attempt=attempt, question=question, value=2, now=too_late)

    assert not refused.accepted and "after the deadline" in refused.message
    assert "The answers you saved before the deadline stand." in refused.message
    log = list(AnswerSave.objects.filter(attempt=attempt).values_list("value", "accepted"))
    assert log == [(0, True), (2, False)]  # both kept in the log; only the first counts
    submitted = attempts.attempt_submit(attempt=attempt, now=too_late)
    assert submitted.grades.get(question=question).points == 1


def test_every_save_is_appended_never_overwritten(week1, student):
    attempt = attempts.attempt_start(quiz=week1, student=student)
    question = by_slug(attempt)["dropout"]
    for text in ("under", "overfit", "overfitting"):
        attempts.answer_save(attempt=attempt, question=question, value=text)

    assert list(AnswerSave.objects.values_list("value", flat=True)) == [
        "under",
        "overfit",
        "overfitting",
    ]


def test_the_beat_task_submits_abandoned_attempts_with_their_last_saved_answers(
    week1, student, other_student
):
    abandoned = attempts.attempt_start(quiz=week1, student=student)
    attempts.answer_save(attempt=abandoned, question=by_slug(abandoned)["adam"], value=False)
    attempts.answer_save(attempt=abandoned, question=by_slug(abandoned)["adam"], value=True)
    still_going = attempts.attempt_start(quiz=week1, student=other_student)
    type(abandoned).objects.filter(pk=abandoned.pk).update(
        deadline=abandoned.deadline - datetime.timedelta(minutes=11)
    )

    assert close_overdue_attempts_task.apply().get() == 1

    abandoned.refresh_from_db()
    still_going.refresh_from_db()
    assert abandoned.state == AttemptState.SUBMITTED and abandoned.submitted_by_server
    assert abandoned.grades.get(question=by_slug(abandoned)["adam"]).points == 1
    assert still_going.state == AttemptState.OPEN


def test_extra_time_moves_an_open_attempts_deadline_at_once(week1, student, course):
    attempt = attempts.attempt_start(quiz=week1, student=student)

    services.accommodation_set(course=course, student=student, time_factor="1.5", extra_minutes=2)

    attempt.refresh_from_db()
    assert attempt.deadline - attempt.started_at == datetime.timedelta(minutes=17)


def test_extra_attempts_allow_another_start(week1, student, course):
    first = attempts.attempt_start(quiz=week1, student=student)
    attempts.attempt_submit(attempt=first)
    with pytest.raises(ValidationError, match="used all 1 attempt"):
        attempts.attempt_start(quiz=week1, student=student)

    services.accommodation_set(course=course, student=student, extra_attempts=1)

    assert attempts.attempt_start(quiz=week1, student=student).number == 2


def test_a_quiz_read_with_the_start_state_continues_counts_and_accommodates_alike(
    week1, student, course
):
    """The views read the quiz ``with_start_state`` (attempt counts and accommodation in the
    same query); ``attempt_start`` answers as it does from its own reads."""

    def start():
        quiz = selectors.with_start_state(Quiz.objects.filter(pk=week1.pk), student).get()
        return attempts.attempt_start(quiz=quiz, student=student)

    first = start()
    assert start().pk == first.pk  # the open one continues
    attempts.attempt_submit(attempt=first)
    with pytest.raises(ValidationError, match="used all 1 attempt"):
        start()

    services.accommodation_set(course=course, student=student, time_factor=2, extra_attempts=2)
    second = start()
    assert second.number == 2 and second.deadline - second.started_at == datetime.timedelta(
        minutes=20
    )
    abandoned = second.started_at - datetime.timedelta(hours=1)
    Attempt.objects.filter(pk=second.pk).update(deadline=abandoned)
    third = start()  # the overdue one is submitted first, with its answers
    assert third.number == 3
    assert Attempt.objects.get(pk=second.pk).state == AttemptState.SUBMITTED


def test_a_quiz_cannot_be_started_before_it_opens_or_after_it_closes(week1, student):
    with pytest.raises(ValidationError, match="opens at"):
        attempts.attempt_start(quiz=week1, student=student, now=week1.opens_at - SECOND)
    with pytest.raises(ValidationError, match="closed at"):
        attempts.attempt_start(quiz=week1, student=student, now=week1.closes_at)


def test_staff_and_outsiders_cannot_start_an_attempt(week1, ta, outsider):
    for person in (ta, outsider):
        with pytest.raises(ValidationError, match=f"{person.username} is not a student of pmldl"):
            attempts.attempt_start(quiz=week1, student=person)


def test_an_answer_of_the_wrong_shape_is_refused_and_recorded_as_refused(week1, student):
    attempt = attempts.attempt_start(quiz=week1, student=student)

    with pytest.raises(AnswerError, match="Choose one of the choices 0-2"):
        attempts.answer_save(attempt=attempt, question=by_slug(attempt)["relu"], value=7)
    with pytest.raises(AnswerError, match="longer than 300"):
        attempts.answer_save(attempt=attempt, question=by_slug(attempt)["gd"], value="x" * 301)

    log = AnswerSave.objects.order_by("pk")
    assert [(s.accepted, s.value) for s in log] == [(False, "7"), (False, json.dumps("x" * 301))]
    assert "Choose one of the choices" in log[0].refusal


def test_right_answers_score_full_marks_and_reach_the_gradebook_after_the_hand_grade(
    week1, student, ta
):
    attempt = attempts.attempt_start(quiz=week1, student=student)
    questions = by_slug(attempt)
    for slug, value in RIGHT.items():
        attempts.answer_save(attempt=attempt, question=questions[slug], value=value)

    attempt = attempts.attempt_submit(attempt=attempt)

    assert attempt.score is None  # the free-text answer waits for a TA
    assert not Score.objects.filter(item=week1.item, student=student).exists()
    services.answer_grade_set(attempt=attempt, question=questions["why"], points=2, by=ta)
    attempt.refresh_from_db()
    assert (attempt.score, attempt.max_score) == (10, 10)
    assert Score.objects.get(item=week1.item, student=student).raw_points == 10


def test_partial_credit_follows_the_questions_rule(week1, student):
    attempt = attempts.attempt_start(quiz=week1, student=student)
    questions = by_slug(attempt)
    # two of three right choices and one of one wrong: 2/3 - 1 < 0, so 0; two right alone: 4/3
    attempts.answer_save(attempt=attempt, question=questions["bn"], value=[0, 1])

    attempt = attempts.attempt_submit(attempt=attempt)

    assert attempt.grades.get(question=questions["bn"]).points == Decimal("1.333")


def test_a_formula_that_cannot_be_read_is_saved_with_a_warning_and_scores_zero(week1, student):
    attempt = attempts.attempt_start(quiz=week1, student=student)
    question = by_slug(attempt)["gd"]

    saved = attempts.answer_save(attempt=attempt, question=question, value="2theta")

    assert saved.accepted and "write products with *" in saved.warning
    attempt = attempts.attempt_submit(attempt=attempt)
    grade = attempt.grades.get(question=question)
    assert grade.points == 0 and "could not be read" in grade.feedback


def test_highest_attempt_counts_when_the_quiz_says_so(week1, student, course):
    services.accommodation_set(course=course, student=student, extra_attempts=1)
    first = attempts.attempt_start(quiz=week1, student=student)
    attempts.answer_save(attempt=first, question=by_slug(first)["adam"], value=True)
    attempts.answer_save(attempt=first, question=by_slug(first)["why"], value="data")
    first = attempts.attempt_submit(attempt=first)
    services.answer_grade_set(attempt=first, question=by_slug(first)["why"], points=1, by=None)
    second = attempts.attempt_start(quiz=week1, student=student)
    second = attempts.attempt_submit(attempt=second)
    services.answer_grade_set(attempt=second, question=by_slug(second)["why"], points=0, by=None)

    assert Score.objects.get(item=week1.item, student=student).raw_points == 2  # 2 of 10 → 2


def test_pools_and_shuffling_are_per_student_and_stay_put(scheme, lecture, course):
    pooled = [{**q, "pool": "three"} for q in QUESTIONS[:3]] + QUESTIONS[3:]
    quiz = quiz_import(
        course=course,
        text=quiz_yaml(
            questions=pooled,
            pools=[{"name": "three", "draw": 2}],
            shuffle_questions=True,
            shuffle_choices=True,
        ),
    )
    layouts = []
    for n in range(8):
        user = UserFactory(username=f"s{n}")
        EnrollmentFactory(course=course, user=user, role="student")
        first = attempts.attempt_start(quiz=quiz, student=user)
        assert attempts.attempt_start(quiz=quiz, student=user).layout == first.layout
        layouts.append(first.layout)

    pooled_pks = set(quiz.questions.filter(pool__isnull=False).values_list("pk", flat=True))
    for layout in layouts:
        pks = [entry["question"] for entry in layout]
        assert len(pks) == 2 + 4 and len(set(pks) & pooled_pks) == 2
        for entry in layout:
            assert sorted(entry["choices"]) == list(range(len(entry["choices"])))
    assert len({json.dumps(layout) for layout in layouts}) > 1  # not everyone sees the same


def test_an_attempt_saving_without_end_is_stopped_and_its_answers_stand(
    week1, student, monkeypatch
):
    monkeypatch.setattr(attempts, "MAX_SAVES", 3)
    attempt = attempts.attempt_start(quiz=week1, student=student)
    question = by_slug(attempt)["dropout"]
    for text in ("a", "b", "overfitting"):
        assert attempts.answer_save(attempt=attempt, question=question, value=text).accepted

    refused = attempts.answer_save(attempt=attempt, question=question, value="d")

    assert not refused.accepted and "the most one attempt may" in refused.message
    assert AnswerSave.objects.count() == 3  # the refusal adds nothing to the log
    graded = attempts.attempt_submit(attempt=attempt)
    assert graded.grades.get(question=question).points == 1


def test_a_quiz_score_is_never_counted_late_against_its_items_due_date(db):
    """The quiz keeps its own deadline; an item due before the quiz closes must not take points
    for lateness (the demo's late policy takes 10% a day)."""

    course = demo_seed(with_admin=False).course
    quiz = Quiz.objects.get(slug="week1")
    graded_item_update(
        item=quiz.item, by=None, reason="test", due_at=quiz.opens_at - datetime.timedelta(days=30)
    )
    student = get_user_model().objects.get(username="student05")
    attempt = attempts.attempt_start(quiz=quiz, student=student)
    for question in Question.objects.filter(pk__in=attempt.question_pks, kind="true_false"):
        attempts.answer_save(attempt=attempt, question=question, value=question.key["answer"])
    attempt = attempts.attempt_submit(attempt=attempt)
    for question in Question.objects.filter(pk__in=attempt.question_pks, kind="free_text"):
        services.answer_grade_set(attempt=attempt, question=question, points=1, by=None)

    result = gradebook_for_course(course=course, students=[student]).breakdowns[student.pk]
    item = result.item(quiz.item_id)
    assert item.days_late == 0 and item.penalty == 0
    assert item.earned == Score.objects.get(item=quiz.item, student=student).raw_points > 0
