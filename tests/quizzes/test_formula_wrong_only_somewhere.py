"""A formula that differs from the key only somewhere (beyond the range the judge samples at
random, in a narrow window between its points, next to zero in a positive domain, past a threshold
of a smooth function) is wrong; the same kinds of formula that are right stay right, and a long
sum or a large number is read, not refused."""

from __future__ import annotations

import pytest

from courseapp.quizzes.judge import formula_judge

GD = "theta - eta*dR/dtheta"
GD_SYMBOLS = ["theta", "eta", "dR", "dtheta"]
RELU_1000 = "(x - 1000 + abs(x - 1000))"  # 0 below 1000
TENT = "(1 - abs(x - 0.123457)*10**6 + abs(1 - abs(x - 0.123457)*10**6))"  # 0 off a 2e-6 window


def judged(answer, key, symbols):
    return formula_judge(answer=answer, key=key, symbols=symbols)


@pytest.mark.parametrize(
    ("answer", "key", "symbols"),
    [
        # only for large values
        (f"x + {RELU_1000}", "x", ["x"]),
        ("x + (abs(x + 500) - (x + 500))", "x", ["x"]),
        ("x + (x - 10**7 + abs(x - 10**7))", "x", ["x"]),
        ("x + (x**2 - 10**12 + abs(x**2 - 10**12))", "x", ["x"]),
        (f"{GD} + (theta - 500 + abs(theta - 500))", GD, GD_SYMBOLS),
        ("n + (n - 1000 + abs(n - 1000))", "n", {"n": "natural"}),
        ("n + (n - 1000 + abs(n - 1000))/2", "n", {"n": {"min": 0, "max": 5000, "integer": True}}),
        ("x*y + (x*y - 1000 + abs(x*y - 1000))", "x*y", ["x", "y"]),
        ("x + (x + y - 300 + abs(x + y - 300))", "x", ["x", "y"]),
        ("x*y + (x - 1000 + abs(x - 1000))*(y - 1000 + abs(y - 1000))", "x*y", ["x", "y"]),
        # past a threshold of a smooth function
        ("x + 1 + tanh(x - 10000)", "x", ["x"]),
        ("x + (1 + tanh(x - 10000))*(x - 1)", "x", ["x"]),
        ("x + 1 - tanh(10000 - x)", "x", ["x"]),
        ("x + sqrt(1 + exp(x - 10000)) - sqrt(1 - exp(x - 10000))", "x", ["x"]),
        # in a narrow window, or next to zero
        (f"x + {TENT}", "x", ["x"]),
        ("x + (1 - abs(x - pi)*10**6 + abs(1 - abs(x - pi)*10**6))", "x", ["x"]),
        ("x + (1 - abs(x**2 - 2)*10**6 + abs(1 - abs(x**2 - 2)*10**6))", "x", ["x"]),
        ("p + (abs(p - 0.5) - abs(p - 0.5000001) - 0.0000001)", "p", {"p": {"min": 0, "max": 1}}),
        ("x + abs(x - 0.00001) - (x - 0.00001)", "x", {"x": "positive"}),
        # the key has the kink
        ("0", "(x - 1000 + abs(x - 1000))/2", ["x"]),
    ],
)
def test_a_formula_wrong_only_somewhere_is_wrong(answer, key, symbols):
    verdict = judged(answer, key, symbols)

    assert not verdict.right, verdict.feedback
    assert verdict.feedback.startswith("Not equivalent")


@pytest.mark.parametrize(
    ("answer", "key", "symbols"),
    [
        ("abs(x - 1) + abs(x + 1)", "abs(abs(x) - 1) + abs(x) + 1", ["x"]),
        ("(x - 1 + abs(x - 1))/2", "(abs(1 - x) + x - 1)/2", ["x"]),
        ("(a + b + abs(a - b))/2", "(b + a + abs(b - a))/2", ["a", "b"]),
        ("(abs(x) - abs(x - 1) + 1)/2", "(abs(x) + 1 - abs(1 - x))/2", ["x"]),
        ("abs(abs(x) - abs(y))*(abs(x) + abs(y))", "abs(x**2 - y**2)", ["x", "y"]),
        ("abs(x**2 - 4)", "abs(x - 2)*abs(x + 2)", ["x"]),
        ("sqrt(x**2 - 2*x + 1)", "abs(x - 1)", ["x"]),
        (f"x + {RELU_1000}/2", "x + (abs(x - 1000) + x - 1000)/2", ["x"]),
        ("log(1 + exp(x))", "log(1 + exp(-abs(x))) + (x + abs(x))/2", ["x"]),
        ("tanh(abs(x))", "abs(tanh(x))", ["x"]),
        (
            "abs(a - b) + abs(b - c) + abs(c - a)",
            "abs(b - a) + abs(c - b) + abs(a - c)",
            ["a", "b", "c"],
        ),
        ("x**(n + 1)/x", "x**n", {"x": "positive", "n": "integer"}),
        # a long sum or product is one level of nesting, as SymPy reads it
        (
            "a*b*c*d*e1*f*g*h*i*j*k*l",
            "l*k*j*i*h*g*f*e1*d*c*b*a",
            ["a", "b", "c", "d", "e1", "f", "g", "h", "i", "j", "k", "l"],
        ),
        (
            "x + x**2 + x**3 + x**4 + x**5 + x**6 + x**7 + x**8 + x**9 + x**10 + x**11 + x**12 + 1",
            "(x**13 - 1)/(x - 1)",
            {"x": {"min": 2, "max": 10}},
        ),
        # a number is a number, whether written 1e10 or 10**10
        ("x/10000000000", "1e-10*x", ["x"]),
        ("6.02e23*n", "602*10**21*n", {"n": "natural"}),
    ],
)
def test_the_same_kinds_of_formula_that_are_right_stay_right(answer, key, symbols):
    verdict = judged(answer, key, symbols)

    assert verdict.right, verdict.feedback
