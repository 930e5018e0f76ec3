"""A quiz on the shared ``course``: one question of each kind, open from an hour ago to an hour
from now, 10 minutes per attempt."""

from __future__ import annotations

import datetime

import pytest
import yaml
from django.utils import timezone

from courseapp.quizzes.authoring import quiz_import
from courseapp.quizzes.models import Question
from tests.factories import LectureFactory
from tests.grading.conftest import scheme  # noqa: F401  (the fixture)

QUESTIONS = [
    {
        "slug": "relu",
        "kind": "single",
        "points": 1,
        "prompt": "Which does not saturate?",
        "choices": ["ReLU", "sigmoid", "tanh"],
        "key": {"answer": 0},
    },
    {
        "slug": "bn",
        "kind": "multiple",
        "points": 2,
        "prompt": "Batch norm...",
        "choices": ["normalizes", "scales and shifts", "keeps running stats", "divides the lr"],
        "key": {"answers": [0, 1, 2], "partial": "right_minus_wrong"},
    },
    {
        "slug": "adam",
        "kind": "true_false",
        "points": 1,
        "prompt": "Adam corrects bias.",
        "key": {"answer": True},
    },
    {
        "slug": "slope",
        "kind": "numeric",
        "points": 1,
        "prompt": "sigma'(0)?",
        "key": {"answer": 0.25, "abs_tol": 0.001},
    },
    {
        "slug": "dropout",
        "kind": "short_text",
        "points": 1,
        "prompt": "Dropout prevents?",
        "key": {"accepted": ["overfitting"], "regex": "over-?fit(ting)?"},
    },
    {
        "slug": "gd",
        "kind": "formula",
        "points": 2,
        "prompt": "The update?",
        "key": {"answer": "theta - eta*dR/dtheta", "symbols": ["theta", "eta", "dR", "dtheta"]},
    },
    {
        "slug": "why",
        "kind": "free_text",
        "points": 2,
        "prompt": "A limitation?",
        "key": {"rubric": "one point each"},
    },
]
RIGHT = {
    "relu": 0,
    "bn": [0, 1, 2],
    "adam": True,
    "slope": "0.25",
    "dropout": "Overfitting.",
    "gd": "-eta*dR/dtheta + theta",
    "why": "Deep nets need a lot of data.",
}


def quiz_yaml(**overrides) -> str:
    now = timezone.now()
    data = {
        "slug": "week1",
        "title": "Quiz 1",
        "lecture": 1,
        "points": 10,
        "opens_at": (now - datetime.timedelta(hours=1)).isoformat(),
        "closes_at": (now + datetime.timedelta(hours=1)).isoformat(),
        "time_limit_minutes": 10,
        "attempts": 1,
        "review": "after_close",
        "questions": QUESTIONS,
    }
    data.update(overrides)
    return yaml.safe_dump(data)


@pytest.fixture
def lecture(course):
    return LectureFactory(course=course, number=1, title="Introduction")


@pytest.fixture
def week1(scheme, lecture, course):  # noqa: F811
    return quiz_import(course=course, text=quiz_yaml())


def by_slug(attempt) -> dict:
    return {q.slug: q for q in Question.objects.filter(pk__in=attempt.question_pks)}
