"""Numeric answers are compared in decimal with the key as the author wrote it: the bounds of a
tolerance are right (the demo's 0.25 ± 0.001 takes 0.251 and 0.249), just outside them is wrong,
and text that is not a number, or a number too large to compute with, is refused at once."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from courseapp.quizzes import scoring


def question(**key):
    checked = scoring.key_validate("numeric", key, [])
    return SimpleNamespace(kind="numeric", key=checked, points=Decimal(1), choices=[])


def right(given, **key) -> bool:
    return scoring.score(question(**key), given)[0] == 1


@pytest.mark.parametrize(
    "answer",
    [
        "0.251",
        "0.249",
        "0.25",
        " 0.251 ",
        "+0.251",
        "0,251",
        "2.51e-1",
        "251E-3",
        ".2500",
        "0.2510000000000000000000000000001e0"[:-3],
        "−0.249e0".replace("−", ""),
    ],
)
def test_it_accepts_the_key_and_both_bounds_of_its_tolerance(answer):
    assert right(answer, answer=0.25, abs_tol=0.001)


@pytest.mark.parametrize(
    "answer", ["0.2511", "0.2489", "0.25100000000000000001", "0.24899999999999999999", "-0.25"]
)
def test_it_refuses_just_outside_the_tolerance(answer):
    assert not right(answer, answer=0.25, abs_tol=0.001)


@pytest.mark.parametrize(
    ("key", "inside", "outside"),
    [
        ({"answer": 0.1, "abs_tol": 0.1}, "0.2", "0.2000001"),
        ({"answer": "0.3", "abs_tol": "0.1"}, "0.2", "0.1999999"),
        ({"answer": 100, "rel_tol": 0.01}, "101", "101.0001"),
        ({"answer": -100, "rel_tol": 0.01}, "-99", "-98.9999"),
        ({"answer": 1e-3, "abs_tol": 1e-4}, "1.1e-3", "1.1000001e-3"),
        ({"answer": 0, "abs_tol": 0}, "0.0", "1e-999999"),
        ({"answer": 3, "abs_tol": 0.5, "rel_tol": 0.1}, "2.5", "3.5000001"),
        ({"answer": 3, "abs_tol": 0.1, "rel_tol": 0.2}, "3.6", "2.3999"),
    ],
)
def test_absolute_and_relative_tolerances_include_their_bounds(key, inside, outside):
    assert right(inside, **key)
    assert not right(outside, **key)


@pytest.mark.parametrize(
    "answer",
    [
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "1e999999999",
        "1e-999999999",
        "0x10",
        "1_000",
        "1 000",
        "0.1.2",
        "1,000.5",
        "",
        "e5",
        "1e",
        "--1",
        "½",
        "٣",
        "1" * 150,
    ],
)
def test_what_is_not_a_number_we_compute_with_scores_zero_and_warns(answer):
    q = question(answer=0.25, abs_tol=0.001)

    points, _ = scoring.score(q, answer)

    assert points == 0
    if answer:
        assert scoring.answer_warning(q, answer)


@pytest.mark.parametrize(
    "key",
    [
        {"answer": "nan"},
        {"answer": float("inf")},
        {"answer": True},
        {"answer": 1, "abs_tol": -1},
        {"answer": 1, "rel_tol": "-0.1"},
        {},
        {"answer": [1]},
        {"answer": 1, "tolerance": 0.1},
        {"answer": "1e999999999"},
    ],
)
def test_a_bad_numeric_key_is_refused(key):
    with pytest.raises(ValidationError):
        scoring.key_validate("numeric", key, [])


def test_the_key_is_kept_as_the_authors_decimal_text():
    assert scoring.key_validate("numeric", {"answer": 0.1, "abs_tol": 1e-3}, []) == {
        "answer": "0.1",
        "abs_tol": "0.001",
        "rel_tol": "0",
    }
