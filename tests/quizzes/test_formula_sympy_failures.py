"""Whatever a student's formula makes SymPy raise is the answer's verdict (refused with the reason,
0 points), never a failure of the judge: such an attempt is scored at once, beat does not retry it
for ever, and a key change that judges it goes through. A key with no symbols (a constant) is a
key like any other."""

from __future__ import annotations

import datetime

import pytest

from courseapp.quizzes import attempts, regrading
from courseapp.quizzes.authoring import question_create
from courseapp.quizzes.judge import formula_judge
from courseapp.quizzes.models import AttemptState
from tests.quizzes.conftest import by_slug

KEY = "theta - eta*dR/dtheta"
SYMBOLS = ["theta", "eta", "dR", "dtheta"]
# Each made SymPy raise (TypeError: complex to float, truth value of a Relational) in the judge.
RAISING = [
    "(log(0.1) - (-64)**0.1)**2",
    "(log(0.1) - (-64)**0.1)**e",
    "exp(((-1)**(1e-300) - 64/0.5)**((1e-5/0.5)**9))",
    "2**(sqrt(log(0 - 1000000)) + abs(1e-5**pi))",
    "((tanh(0.1))/theta)**(((1e-5)**(-1))/(3*((-64)**(0.1))) + abs(0.1))",
]


@pytest.mark.parametrize("answer", RAISING)
def test_an_answer_sympy_cannot_evaluate_is_refused_with_the_reason(answer, settings):
    # What SymPy raises is the point here, not the budget: some of these take about a second of
    # CPU, which on a loaded machine (a CI run beside other work) ran past the 2 s default.
    settings.QUIZ_JUDGE_CPU_SECONDS = 20
    verdict = formula_judge(answer=answer, key=KEY, symbols=SYMBOLS)

    assert not verdict.right and "could not be evaluated" in verdict.feedback


def _attempt(quiz, student, answer):
    attempt = attempts.attempt_start(quiz=quiz, student=student)
    attempts.answer_save(attempt=attempt, question=by_slug(attempt)["gd"], value=answer)
    return attempt


def test_such_an_attempt_is_scored_at_submit_and_by_beat(week1, student, other_student):
    submitted = attempts.attempt_submit(attempt=_attempt(week1, student, RAISING[0]))
    overdue = _attempt(week1, other_student, RAISING[1])
    type(overdue).objects.filter(pk=overdue.pk).update(
        deadline=overdue.deadline - datetime.timedelta(minutes=11)
    )

    attempts.attempts_close_overdue()

    overdue.refresh_from_db()
    for attempt in (submitted, overdue):
        assert attempt.state == AttemptState.SUBMITTED
        grade = attempt.grades.get(question__slug="gd")
        assert grade.points == 0 and "could not be evaluated" in grade.feedback


def test_a_key_change_judges_such_an_answer_and_goes_through(week1, student, instructor):
    attempts.attempt_submit(attempt=_attempt(week1, student, RAISING[0]))
    question = week1.questions.get(slug="gd")

    changes = regrading.question_change(
        question=question,
        by=instructor,
        key={"answer": "theta", "symbols": SYMBOLS},
        reason="simpler",
        apply=True,
    )

    question.refresh_from_db()
    assert question.key["answer"] == "theta" and changes == []


def test_a_constant_key_is_a_key(week1):
    question = question_create(
        quiz=week1,
        slug="slope0",
        kind="formula",
        prompt="sigma'(0), exactly?",
        points=1,
        key={"answer": "1/4", "symbols": []},
    )

    assert formula_judge(answer="exp(0)/(1 + exp(0))**2", key="1/4", symbols=[]).right
    assert not formula_judge(answer="0.25 + 1e-30", key="1/4", symbols=[]).right
    assert question.key == {"answer": "1/4", "symbols": []}
