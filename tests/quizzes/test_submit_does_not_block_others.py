"""Submitting a hostile formula holds no transaction while it is judged: the attempt is closed at
once, another student's save goes through meanwhile (SQLite's single writer included), and the
formula then scores 0 with the reason."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from courseapp.quizzes import attempts
from courseapp.quizzes.models import Attempt, AttemptState
from tests.quizzes.conftest import by_slug

# Its own tower: verdicts are remembered per process, and another test judges exp(...(theta))
TOWER = "exp(exp(exp(exp(exp(eta)))))"  # keeps SymPy busy for its whole CPU time


@pytest.mark.django_db(transaction=True)
def test_another_student_saves_while_a_tower_is_judged(settings, week1, student, other_student):
    settings.QUIZ_JUDGE_CPU_SECONDS = 5.0  # long enough to save meanwhile on a loaded machine
    hostile = attempts.attempt_start(quiz=week1, student=student)
    attempts.answer_save(attempt=hostile, question=by_slug(hostile)["gd"], value=TOWER)
    other = attempts.attempt_start(quiz=week1, student=other_student)
    errors = []

    def submit():
        try:
            attempts.attempt_submit(attempt=hostile)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    judging = threading.Thread(target=submit)
    judging.start()
    deadline = time.monotonic() + 60
    while Attempt.objects.get(pk=hostile.pk).state != AttemptState.SUBMITTED:
        assert time.monotonic() < deadline, "the attempt was not closed before judging"
        time.sleep(0.05)

    saved = attempts.answer_save(attempt=other, question=by_slug(other)["relu"], value=0)
    still_judging = judging.is_alive()
    judging.join(timeout=120)

    assert saved.accepted and still_judging and not errors
    grade = Attempt.objects.get(pk=hostile.pk).grades.get(question__slug="gd")
    assert grade.points == 0 and "could not be" in grade.feedback
