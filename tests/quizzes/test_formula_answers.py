"""Formula answers: the same expression in many forms is right; a different one is wrong, however
small the difference and wherever in the symbols' declared domain it shows (negatives, zero);
text that is not a formula, or that tries to run code or to blow up, is refused with a reason."""

from __future__ import annotations

import pytest

from courseapp.quizzes.formula import FormulaError, read
from courseapp.quizzes.judge import formula_judge

SYMBOLS = ["theta", "eta", "dR", "dtheta"]
KEY = "theta - eta*dR/dtheta"


def judged(answer, key=KEY, symbols=SYMBOLS):
    return formula_judge(answer=answer, key=key, symbols=symbols)


@pytest.mark.parametrize(
    "answer",
    [
        "theta - eta*dR/dtheta",
        "-eta*dR/dtheta + theta",
        "theta-(eta*dR)/dtheta",
        "theta - eta*(dR/dtheta)",
        "theta - dR*eta/dtheta",
        "theta + (-1)*eta*dR/dtheta",
        "(theta*dtheta - eta*dR)/dtheta",
        "theta - eta*dR*dtheta**-1",
        "theta - eta*dR*dtheta^(-1)",
        "θ − η·dR/dtheta",
        "theta - 1/dtheta*dR*eta",
        "2*theta/2 - eta*dR/dtheta",
        "theta - 0.5*eta*dR/dtheta - eta*dR/(2*dtheta)",
    ],
)
def test_it_accepts_equivalent_forms(answer):
    assert judged(answer).right


@pytest.mark.parametrize(
    ("answer", "key", "symbols"),
    [
        ("sigmoid(x)*(1 - sigmoid(x))", "exp(-x)/(1 + exp(-x))^2", ["x"]),
        ("2*tanh(2*x)", "4*sigmoid(4*x) - 2", ["x"]),
        ("sin(x)**2 + cos(x)**2", "1", ["x"]),
        ("sqrt(x**2)", "abs(x)", ["x"]),
        ("log(exp(x))", "x", ["x"]),
        ("(x + abs(x))/2", "x", {"x": "nonnegative"}),
        ("abs(x)", "x", {"x": "positive"}),
        ("sqrt(x)**2", "x", {"x": {"min": 0, "max": 5}}),
    ],
)
def test_it_accepts_identities_on_the_declared_domain(answer, key, symbols):
    assert judged(answer, key, symbols).right


@pytest.mark.parametrize(
    ("answer", "key", "symbols"),
    [
        # wrong only for negative inputs (the cases, and their kin)
        ("theta - eta*abs(dR)/dtheta", KEY, SYMBOLS),
        ("x", "(x + abs(x))/2", ["x"]),
        ("abs(x)", "x", ["x"]),
        ("sqrt(x**2)", "x", ["x"]),
        ("theta - eta*abs(dR/dtheta)", KEY, SYMBOLS),
        ("theta - abs(eta)*dR/dtheta", KEY, SYMBOLS),
        ("(x + abs(x))/2", "x", {"x": {"min": -1, "max": 1}}),
        # a tiny constant, visible to SymPy
        ("theta - eta*dR/dtheta + 1e-10", KEY, SYMBOLS),
        ("theta - eta*dR/dtheta + 1e-300", KEY, SYMBOLS),
        ("theta - eta*dR/dtheta + 1e-300*theta", KEY, SYMBOLS),
        ("theta*(1 + 1e-200) - eta*dR/dtheta", KEY, SYMBOLS),
        ("theta - eta*dR/dtheta + exp(-900)", KEY, SYMBOLS),
        ("sqrt(theta**2 + exp(-900))", "abs(theta)", ["theta"]),
        ("sqrt(x**2 + 1e-300*x**2*(x - 1)**2)", "abs(x)", ["x"]),
        # undefined, or different, where the key is defined
        ("x/(x - 1) + 1", "x + 1", ["x"]),
        ("log(x - 1)", "log(x)", {"x": "positive"}),
        ("sqrt(x**2)", "x", {"x": "nonpositive"}),
        # plain wrong
        ("theta + eta*dR/dtheta", KEY, SYMBOLS),
        ("theta - eta*dR", KEY, SYMBOLS),
        ("theta - dR/dtheta", KEY, SYMBOLS),
        ("eta*dR/dtheta - theta", KEY, SYMBOLS),
        ("theta - eta*dtheta/dR", KEY, SYMBOLS),
        ("theta - eta**2*dR/dtheta", KEY, SYMBOLS),
        ("x**3", "x", {"x": "integer"}),
    ],
)
def test_it_refuses_near_misses(answer, key, symbols):
    assert not judged(answer, key, symbols).right


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("__import__('os').system('id')", "is not allowed"),
        ("theta.__class__", "is not allowed in a formula"),
        ("(lambda: 1)()", "is not allowed"),
        ("factorial(theta)", "is not allowed"),
        ("gamma(theta)", "is not allowed"),
        ("1e999999 * theta", "too large"),
        ("x + 1", "Unknown name 'x'"),
        ("2theta", "write products with *"),
        ("exp(" * 200, "longer than 300"),
        ("-" * 20 + "theta", "nested too deeply"),
        ("-" * 280 + "theta", "too long"),
        ("", "Write a formula"),
        ("[theta]", "is not allowed"),
        ("theta if eta else dR", "is not allowed"),
        ("theta % 2", r"only \+ - \* / and \*\* are allowed"),
    ],
)
def test_what_is_not_a_formula_is_refused_at_once_with_a_reason(answer, reason):
    with pytest.raises(FormulaError, match=reason):
        read(answer, SYMBOLS)
    verdict = judged(answer)
    assert not verdict.right and "could not be read" in verdict.feedback


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("9**9**9**9", "Powers above 64"),
        ("10**10**10", "Powers above 64"),
        ("(10**6)**64**64", "Powers above 64"),
        ("theta**(10**6)", "Powers above 64"),
        ("((10**6)**64)**2 * theta", "too large"),
        ("exp(1000000) * theta", "too large or too small"),
        ("exp(exp(exp(5)))", "too large or too small"),
        ("theta + (1e-6)**64*(1e-6)**64", "too large or too small"),
        ("exp(exp(exp(exp(exp(exp(exp(theta + eta)))))))", "could not be evaluated"),
    ],
)
def test_huge_or_tiny_numbers_are_refused_with_a_reason(answer, reason):
    verdict = judged(answer)
    assert not verdict.right and reason in verdict.feedback
