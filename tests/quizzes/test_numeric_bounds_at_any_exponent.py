"""A numeric tolerance's bounds are exact whatever the numbers' exponents: a difference that needs
more digits than any fixed precision (1e200 against -1e-200) is not rounded onto the bound."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from courseapp.quizzes import scoring


def right(given, **key) -> bool:
    checked = scoring.key_validate("numeric", key, [])
    question = SimpleNamespace(kind="numeric", key=checked, points=Decimal(1), choices=[])
    return scoring.score(question, given)[0] == 1


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ("-1e-200", {"answer": "1e200", "abs_tol": "1e200"}),  # |difference| = 1e200 + 1e-200
        ("2e200", {"answer": "-1e-200", "abs_tol": "2e200"}),
        ("-1e-1000000", {"answer": "1e1000000", "abs_tol": "1e1000000"}),
        ("1e-300", {"answer": "-1e300", "rel_tol": "1"}),
        ("1.0000000000000000000000000000000000001e300", {"answer": "-1e-300", "abs_tol": "1e300"}),
    ],
)
def test_just_outside_the_bound_is_wrong_at_any_exponent(given, key):
    assert not right(given, **key)


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ("0", {"answer": "1e200", "abs_tol": "1e200"}),
        ("1e200", {"answer": "1e-200", "abs_tol": "1e200"}),  # 1e200 - 1e-200: inside
        ("-1e-1000000", {"answer": "1e1000000", "rel_tol": "1.0000000000000001"}),
        ("1e-999999", {"answer": "0", "abs_tol": "1e-999999"}),
    ],
)
def test_on_or_inside_the_bound_is_right_at_any_exponent(given, key):
    assert right(given, **key)
