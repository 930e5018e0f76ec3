"""The formula judge never hangs and never holds a transaction: a hostile formula is refused once
it has used its CPU time, the judge keeps working afterwards, a judgement inside a transaction is
refused as our bug, and a judge that cannot answer is never a student's score."""

from __future__ import annotations

import datetime
import os
import signal

import pytest
from django.db import transaction

from courseapp.quizzes import attempts, judge
from courseapp.quizzes.models import AttemptState
from courseapp.quizzes.tasks import close_overdue_attempts_task
from grading.models import Score
from tests.quizzes.conftest import by_slug

KEY = "theta - eta*dR/dtheta"
SYMBOLS = ["theta", "eta", "dR", "dtheta"]
TOWERS = [
    "exp(exp(exp(exp(exp(theta)))))",
    "exp(exp(exp(exp(exp(exp(exp(theta)))))))",
    "tan(exp(exp(exp(exp(theta)))))",
    "exp(exp(exp(exp(theta + eta + dR + dtheta))))",
]


@pytest.fixture
def quick_budget(settings):
    settings.QUIZ_JUDGE_CPU_SECONDS = 1.0


@pytest.mark.parametrize("tower", TOWERS)
def test_a_tower_is_refused_once_it_has_used_its_cpu_time(quick_budget, tower):
    verdict = judge.formula_judge(answer=tower, key=KEY, symbols=SYMBOLS)

    assert not verdict.right and "within the time allowed" in verdict.feedback
    # and the judge still judges
    assert judge.formula_judge(answer="-eta*dR/dtheta + theta", key=KEY, symbols=SYMBOLS).right


def test_a_judge_killed_between_judgements_is_replaced():
    judge.formula_judge(answer="theta", key=KEY, symbols=SYMBOLS)
    for child in list(judge._POOL.idle):
        os.kill(child.proc.pid, signal.SIGKILL)
        child.proc.wait(timeout=60)

    assert judge.formula_judge(answer="theta-eta*dR/dtheta", key=KEY, symbols=SYMBOLS).right


def test_a_judgement_inside_a_transaction_is_refused_as_our_bug(db):
    with transaction.atomic(), pytest.raises(RuntimeError, match="outside any database"):
        judge.formula_judge(answer="theta + 1", key=KEY, symbols=SYMBOLS)


def _formula_attempt(week1, student, answer):
    attempt = attempts.attempt_start(quiz=week1, student=student)
    attempts.answer_save(attempt=attempt, question=by_slug(attempt)["gd"], value=answer)
    return attempt


def test_submitting_a_tower_scores_zero_with_the_reason(quick_budget, week1, student):
    attempt = _formula_attempt(week1, student, TOWERS[0])

    attempt = attempts.attempt_submit(attempt=attempt)

    grade = attempt.grades.get(question__slug="gd")
    assert attempt.state == AttemptState.SUBMITTED
    assert grade.points == 0 and "within the time allowed" in grade.feedback


def test_the_beat_task_closes_attempts_with_towers_and_goes_on(
    quick_budget, week1, student, other_student
):
    towers = _formula_attempt(week1, student, TOWERS[1])
    right = _formula_attempt(week1, other_student, "theta - dR*eta/dtheta")
    type(towers).objects.update(deadline=towers.deadline - datetime.timedelta(minutes=11))

    assert close_overdue_attempts_task.apply().get() == 2

    towers.refresh_from_db()
    right.refresh_from_db()
    assert towers.grades.get(question__slug="gd").points == 0
    assert right.grades.get(question__slug="gd").points == 2


def test_a_judge_that_cannot_answer_leaves_the_attempt_unscored_until_beat_scores_it(
    settings, week1, student
):
    judge.formula_judge(answer="theta", key=KEY, symbols=SYMBOLS)  # a warm child
    attempt = _formula_attempt(week1, student, "theta - eta*dR/(dtheta)")
    settings.QUIZ_JUDGE_WALL_SECONDS = 0.0  # no child can answer in no time: unavailable

    attempt = attempts.attempt_submit(attempt=attempt)

    assert attempt.state == AttemptState.SUBMITTED and not attempt.grades.exists()
    assert not Score.objects.filter(student=student).exists()  # never a score of 0
    settings.QUIZ_JUDGE_WALL_SECONDS = 60.0
    assert attempts.attempts_close_overdue() == 0  # submitted a moment ago: left to the submit
    later = attempt.submitted_at + attempts.UNSCORED_AFTER + datetime.timedelta(seconds=1)
    attempts.attempts_close_overdue(now=later)
    assert attempt.grades.get(question__slug="gd").points == 2


def test_a_judge_whose_parent_left_while_it_started_exits_quietly():
    # A web worker stopped (SIGTERM) while its judge was still loading SymPy: the judge's
    # "ready" meets a closed pipe. It leaves, with no traceback in the worker's log.
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-I", str(judge.WORKER), str(1024 << 20)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    child.stdout.close()  # the parent is gone before the judge says it is ready
    child.stdin.close()
    errors = child.stderr.read()
    child.wait(timeout=120)

    assert b"Traceback" not in errors and child.returncode == 0
