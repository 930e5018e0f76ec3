"""A quiz file is hostile until checked: YAML anchors and aliases, oversized or deeply nested
files and every malformed field of every question kind are refused at once, whole, with a reason
naming the question and the field; nothing is written."""

from __future__ import annotations

import copy
import time

import pytest
import yaml
from django.core.exceptions import ValidationError

from courseapp.quizzes.authoring import quiz_import
from courseapp.quizzes.models import Question, Quiz
from tests.quizzes.conftest import QUESTIONS, quiz_yaml

ALIAS_BOMB = """slug: bomb
title: Bomb
lecture: 1
opens_at: 2026-09-07T10:00:00Z
closes_at: 2026-09-07T11:00:00Z
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
questions:
  - {slug: q, kind: single, prompt: p, choices: *e, key: {answer: 0}}
"""


@pytest.fixture
def ready(scheme, lecture, course):
    return course


def refused(course, text, match: str) -> None:
    started = time.monotonic()
    with pytest.raises(ValidationError, match=match):
        quiz_import(course=course, text=text)
    assert time.monotonic() - started < 60  # a deadline for a loaded machine, not a timing
    assert not Quiz.objects.exists() and not Question.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        ALIAS_BOMB,
        quiz_yaml().replace("title: Quiz 1", "title: &t Quiz 1\nitem: *t"),
        "slug: &s week1\ntitle: x\n",
        "questions: &q []\n",
    ],
    ids=["bomb", "scalar-alias", "anchor-only", "empty-anchor"],
)
def test_yaml_anchors_and_aliases_are_refused(ready, text):
    refused(ready, text, "anchor or alias")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("x: " + "[" * 50 + "]" * 50, "nested more than"),
        ("items:\n" + "  - 1\n" * 30_000, "more than 20,000 values"),
        (b"x" * ((1 << 20) + 1), "larger than 1 MB"),
        ("x" * ((1 << 20) + 1), "larger than 1 MB"),
        (b"\xff\xfe", "not UTF-8"),
        ("- just\n- a list\n", "must be a mapping"),
        ("slug: !!python/object/apply:os.system ['id']\n", "not valid YAML"),
        ("slug: [unclosed\n", "not valid YAML"),
        ("opens_at: 2026-13-45\n", "cannot read"),
        ("lecture: " + "9" * 5000 + "\n", "cannot read"),
    ],
    ids=[
        "deep",
        "many",
        "big-bytes",
        "big-text",
        "not-utf8",
        "list",
        "python-tag",
        "syntax",
        "bad-date",
        "long-int",
    ],
)
def test_files_too_big_deep_or_strange_are_refused(ready, text, match):
    refused(ready, text, match)


def with_question(index: int, **changes) -> str:
    questions = copy.deepcopy(QUESTIONS)
    questions[index].update(changes)
    for key, value in changes.items():
        if value is None:
            del questions[index][key]
    return quiz_yaml(questions=questions)


Q = {q["kind"]: i for i, q in enumerate(QUESTIONS)}


@pytest.mark.parametrize(
    ("index", "changes", "match"),
    [
        (Q["single"], {"key": {"answer": 3}}, "relu: The key's answer must be a choice"),
        (Q["single"], {"key": {"answer": True}}, "relu: The key's answer"),
        (Q["single"], {"key": {"answer": 0, "answers": [1]}}, "relu: The key has fields"),
        (Q["single"], {"choices": ["only one"]}, "relu: A choice question needs 2 to 20"),
        (Q["single"], {"choices": ["a"] * 21}, "relu: A choice question needs 2 to 20"),
        (Q["single"], {"choices": ["a", "a", "b"]}, "relu: Two choices have the same text"),
        (Q["single"], {"choices": ["a", 3, "b"]}, "relu: Choice 1 must be text"),
        (Q["single"], {"choices": ["a", "x" * 1001]}, "relu: Choice 1 must be text"),
        (Q["single"], {"choices": "ReLU"}, "relu: A choice question needs"),
        (Q["single"], {"points": -1}, "relu: points must be a number"),
        (Q["single"], {"points": "lots"}, "relu: points must be"),
        (Q["single"], {"points": 1e10}, "relu: points must be"),
        (Q["single"], {"points": 0.0001}, "relu: points must be"),
        (Q["single"], {"prompt": None}, "relu: prompt must be"),
        (Q["single"], {"prompt": "x" * 10_001}, "relu: prompt must be"),
        (Q["single"], {"prompt": ["a list"]}, "relu: prompt must be"),
        (Q["single"], {"explanation": 42}, "relu: explanation must be"),
        (Q["single"], {"slug": "no spaces allowed"}, "Question no spaces allowed: slug"),
        (Q["single"], {"slug": "bn"}, "Two questions are called bn"),
        (Q["single"], {"kind": "essay"}, "relu: kind must be one of"),
        (Q["single"], {"pool": "nowhere"}, "relu: there is no pool"),
        (Q["single"], {"weight": 2}, "relu: unknown keys weight"),
        (Q["multiple"], {"key": {"answers": [0, 0]}}, "bn: The key's answers name a choice twice"),
        (Q["multiple"], {"key": {"answers": [7]}}, "bn: The key's answers must be"),
        (Q["multiple"], {"key": {"answers": []}}, "bn: The key's answers must be"),
        (Q["multiple"], {"key": {"answers": [0], "partial": "some"}}, "bn: partial must be"),
        (Q["true_false"], {"key": {"answer": "yes"}}, "adam: The key's answer must be true"),
        (Q["true_false"], {"choices": ["T", "F"]}, "adam: A true_false question has no choices"),
        (Q["numeric"], {"key": {"answer": 0.25, "abs_tol": -0.1}}, "slope: The key's abs_tol"),
        (Q["numeric"], {"key": {"answer": ".nan"}}, "slope: The key's answer must be"),
        (Q["numeric"], {"key": {"answer": 0.25, "tol": 1}}, "slope: The key has fields"),
        (Q["short_text"], {"key": {"accepted": [], "regex": ""}}, "dropout: A short-text key"),
        (Q["short_text"], {"key": {"accepted": "overfitting"}}, "dropout: accepted must be"),
        (Q["short_text"], {"key": {"accepted": ["x"] * 51}}, "dropout: accepted must be"),
        (Q["short_text"], {"key": {"regex": "(a+)+\\1"}}, "dropout: The regex is not one"),
        (Q["short_text"], {"key": {"regex": "(?=a)a"}}, "dropout: The regex is not one"),
        (Q["short_text"], {"key": {"regex": "("}}, "dropout: The regex is not one"),
        (Q["short_text"], {"key": {"regex": "a" * 501}}, "dropout: regex must be text"),
        (Q["short_text"], {"key": {"regex": "a", "case_sensitive": "no"}}, "dropout: case_sens"),
        (
            Q["formula"],
            {"key": {"answer": "theta + x", "symbols": ["theta"]}},
            "gd: The key's formula: Unknown name 'x'",
        ),
        (
            Q["formula"],
            {"key": {"answer": "1/(x - x)", "symbols": ["x"]}},
            "gd: The key's formula: The key is undefined",
        ),
        (Q["formula"], {"key": {"answer": "x", "symbols": ["x", "x y"]}}, "gd: The key's formula"),
        (
            Q["formula"],
            {"key": {"answer": "x", "symbols": {"x": "imaginary"}}},
            "gd: The key's formula: Symbol x: the domain",
        ),
        (
            Q["formula"],
            {"key": {"answer": "x", "symbols": {"x": {"min": 2, "max": 1}}}},
            "gd: The key's formula: Symbol x: min must be below max",
        ),
        (
            Q["formula"],
            {"key": {"answer": "x", "symbols": [f"s{i}" for i in range(13)]}},
            "gd: The key's formula: A formula may use at most 12",
        ),
        (
            Q["formula"],
            {"key": {"answer": "exp(x)", "symbols": ["exp", "x"]}},
            "gd: The key's formula: Symbol 'exp'",
        ),
        (Q["free_text"], {"key": {"rubric": ["a"]}}, "why: rubric must be text"),
        (Q["free_text"], {"key": {"rubric": "r", "points": 3}}, "why: The key has fields"),
    ],
)
def test_every_field_of_every_kind_is_checked_and_named(ready, index, changes, match):
    refused(ready, with_question(index, **changes), match)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"slug": "a b"}, "The quiz's slug"),
        ({"title": ""}, "title must be"),
        ({"lecture": "one"}, "lecture must be"),
        ({"lecture": 9}, "no lecture number 9"),
        ({"points": 0}, "points must be a number above 0"),
        ({"attempts": 0}, "attempts must be"),
        ({"combine": "mean"}, "combine must be one of"),
        ({"review": "sometimes"}, "review must be"),
        ({"time_limit_minutes": 0}, "time_limit_minutes"),
        ({"opens_at": "soon"}, "opens_at must"),
        ({"opens_at": "2026-09-07T10:00:00"}, "with its zone"),
        ({"questions": []}, "at least one"),
        ({"questions": "all"}, "at least one"),
        ({"pools": [{"name": "p", "draw": 0}]}, "draw must"),
        ({"pools": [{"name": "p", "draw": 5}]}, "Pool p draws 5 but holds 0"),
        ({"pools": {"name": "p"}}, "pools must be a list"),
        ({"item": ["x"]}, "item must be"),
        (
            {"questions": [{**copy.deepcopy(QUESTIONS[0]), "slug": f"q{i}"} for i in range(201)]},
            "at most 200",
        ),
    ],
)
def test_every_field_of_the_quiz_is_checked(ready, changes, match):
    refused(ready, quiz_yaml(**changes), match)


def test_a_good_file_still_imports_and_keeps_its_keys(ready):
    quiz = quiz_import(course=ready, text=quiz_yaml())

    keys = dict(quiz.questions.values_list("slug", "key"))
    assert keys["slope"] == {"answer": "0.25", "abs_tol": "0.001", "rel_tol": "0"}
    assert keys["gd"]["symbols"] == ["theta", "eta", "dR", "dtheta"]
    assert (
        yaml.safe_load(quiz_yaml())["questions"][0]["choices"]
        == quiz.questions.get(slug="relu").choices
    )
