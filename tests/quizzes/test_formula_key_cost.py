"""The key's own work (its points, computed once per judge process) is not charged to the first
student judged against it: a key too slow for the budget leaves the answer unjudged (the judge is
unavailable: retried, never a score), where it used to refuse the student's answer with 0."""

from __future__ import annotations

import os
import signal

import pytest

from courseapp.quizzes import judge

KEY = "tanh(a*x + b)*4/(exp(a*x + b) + exp(-(a*x + b)))**2"
SYMBOLS = ["a", "x", "b"]


def _fresh_judges() -> None:
    """No warm child remembers the key's points."""
    for child in list(judge._POOL.idle):
        os.kill(child.proc.pid, signal.SIGKILL)
        child.proc.wait(timeout=60)


def test_a_key_slower_than_the_budget_is_never_the_students_zero(settings):
    _fresh_judges()
    settings.QUIZ_JUDGE_CPU_SECONDS = 0.01  # far less than the key's points take

    with pytest.raises(judge.JudgeUnavailable, match="key"):
        judge.formula_judge(answer="tanh(b + x*a)*(1 - tanh(a*x + b)**2)", key=KEY, symbols=SYMBOLS)


def test_with_the_key_ready_the_answer_has_the_whole_budget(settings):
    _fresh_judges()

    verdict = judge.formula_judge(
        answer="tanh(a*x + b)*(1 - tanh(a*x + b)**2)", key=KEY, symbols=SYMBOLS
    )

    assert verdict.right, verdict.feedback
