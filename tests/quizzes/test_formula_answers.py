"""Formula answers: the same expression in many forms is right; a different one is wrong; text
that is not a formula, or that tries to run code or to blow up, is refused with a reason."""

from __future__ import annotations

import pytest

from courseapp.quizzes.formula import FormulaError, formula_equivalent

SYMBOLS = ["theta", "eta", "dR", "dtheta"]
KEY = "theta - eta*dR/dtheta"


@pytest.mark.parametrize(
    "answer",
    ["theta - eta*dR/dtheta", "-eta*dR/dtheta + theta", "theta-(eta*dR)/dtheta",
     "theta - eta*(dR/dtheta)", "theta - dR*eta/dtheta", "theta + (-1)*eta*dR/dtheta",
     "(theta*dtheta - eta*dR)/dtheta", "theta - eta*dR*dtheta**-1", "theta - eta*dR*dtheta^(-1)",
     "θ − η·dR/dtheta", "theta - 1/dtheta*dR*eta", "2*theta/2 - eta*dR/dtheta"],
)  # fmt: skip
def test_equivalent_forms_are_right(answer):
    assert formula_equivalent(answer, KEY, symbols=SYMBOLS)


@pytest.mark.parametrize(
    "answer",
    ["theta + eta*dR/dtheta", "theta - eta*dR", "theta - dR/dtheta", "eta*dR/dtheta - theta",
     "theta - eta*dtheta/dR", "theta - eta**2*dR/dtheta"],
)  # fmt: skip
def test_different_formulas_are_wrong(answer):
    assert not formula_equivalent(answer, KEY, symbols=SYMBOLS)


def test_identities_sympy_must_prove_are_found():
    assert formula_equivalent(
        "sigmoid(x)*(1 - sigmoid(x))", "exp(-x)/(1 + exp(-x))^2", symbols=["x"]
    )
    assert formula_equivalent("2*tanh(2*x)", "4*sigmoid(4*x) - 2", symbols=["x"])


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("__import__('os').system('id')", "is not allowed"),
        ("theta.__class__", "is not allowed in a formula"),
        ("(lambda: 1)()", "is not allowed"),
        ("9**9**9**9", "Powers above 64"),
        ("10**10**10", "Powers above 64"),
        ("(10**6)**64**64", "Powers above 64"),
        ("999999999999 * theta", "Numbers larger than"),
        ("x + 1", "Unknown name 'x'"),
        ("2theta", "write products with *"),
        ("exp(" * 200, "longer than 300"),
        ("-" * 20 + "theta", "nested too deeply"),
        ("", "Write a formula"),
        ("[theta]", "is not allowed"),
        ("theta if eta else dR", "is not allowed"),
    ],
)
def test_what_is_not_a_formula_is_refused_with_a_reason(answer, reason):
    with pytest.raises(FormulaError, match=reason):
        formula_equivalent(answer, KEY, symbols=SYMBOLS)
