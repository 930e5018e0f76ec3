"""A1 (neural network basics) as shipped in courseapp/demo/assignments/a1: its reference solution
scores full marks, and each of these wrong solutions loses exactly the checks it breaks, with
feedback that names the problem. Each grading runs the real sandbox (a few seconds)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.autograder.shipped import Shipped

A1 = Shipped("a1")
FULL = A1.full


def test_the_reference_solution_scores_full_marks():
    result = A1.grade(A1.source)

    assert A1.check_scores(result) == FULL
    assert [(t.name, t.status) for t in result.tests if t.name not in FULL] == [
        ("why_nonsaturating", "manual")
    ]
    assert sum(FULL.values()) + 1 == 10  # the demo's A1 item is worth 10 points


MISTAKES = {
    "leaky ReLU with the slope on the wrong side": (
        [("torch.where(x > 0, x, negative_slope * x)",
          "torch.where(x > 0, negative_slope * x, x)")],
        {"leaky ReLU"}, "Values of the output",
    ),
    "ELU without the -1": (
        [("alpha * torch.expm1(torch.clamp(x, max=0))",
          "alpha * torch.exp(torch.clamp(x, max=0))")],
        {"ELU"}, "Values of the output",
    ),
    "ReLU that is not differentiable (built from Python numbers)": (
        [("return torch.where(x > 0, x, torch.zeros_like(x))",
          "return torch.tensor([max(0.0, v) for v in x.flatten().tolist()]).reshape(x.shape)")],
        {"ReLU"}, "does not depend on its input through autograd",
    ),
    "the forward pass without b2": (
        [("return torch.sigmoid(h @ W2.T + b2)", "return torch.sigmoid(h @ W2.T)")],
        {"forward pass"}, "Values of the output",
    ),
    "the risk summed, not averaged": (
        [("return ((predictions - targets) ** 2).mean()",
          "return ((predictions - targets) ** 2).sum()")],
        {"empirical risk"}, "Values of the output",
    ),
    "the L2 gradient without its factor 2": (
        [("return theta - lr * (grad + 2 * lam * theta)",
          "return theta - lr * (grad + lam * theta)")],
        {"gradient step with L2"}, "Values of the output",
    ),
    "ReLU calling the forbidden torch.relu": (
        [("return torch.where(x > 0, x, torch.zeros_like(x))", "return torch.relu(x)")],
        {"ReLU"}, "forbids: torch.relu",
    ),
    "sigmoid calling a forbidden API by a name the source does not show": (
        [("    return torch.where(x >= 0, positive, z / (1 + z))",
          "    return getattr(torch, 'sig' + 'moid')(x)")],
        {"sigmoid"}, "It calls torch.sigmoid, which this check forbids.",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_wrong_solution_loses_exactly_the_checks_it_breaks(mistake):
    edits, broken, message = MISTAKES[mistake]

    result = A1.grade(A1.solution(*edits))

    A1.assert_loses_exactly(result, broken, message)


def test_patching_torch_in_the_notebook_gains_nothing():
    # Out of the source scan's sight (it would score every check 0): only running it shows it.
    cheat = (
        "import torch\n"
        "_t = __import__('torch')\n"
        "setattr(_t, 'allclose', lambda *a, **k: True)\n"
        "setattr(_t.testing, 'assert_close', lambda *a, **k: None)\n"
        "setattr(_t.nn.functional, 'elu', lambda x, alpha=1.0: x)\n"  # the references: unused here
        "setattr(_t.nn.functional, 'mse_loss', lambda a, b: (a - b).mean())\n"
    )
    submitted = A1.solution(
        ("return ((predictions - targets) ** 2).mean()", "return (predictions - targets).mean()"),
        ("def sigmoid(x):", cheat + "\n\ndef sigmoid(x):"),
    )

    scores = A1.check_scores(A1.grade(submitted))

    # Only the real mistake costs anything; nothing the patches did earned a point.
    assert scores == {**FULL, "empirical risk": Decimal(0)}


def test_patching_torch_in_plain_sight_scores_zero_on_every_check():
    submitted = A1.solution(
        ("def sigmoid(x):", "torch.relu = lambda x: x.clamp(min=0)\n\n\ndef sigmoid(x):")
    )

    result = A1.grade(submitted)

    assert A1.check_scores(result) == dict.fromkeys(FULL, 0)
    assert "Your code changes torch.relu (cell activations, line 1)" in result.tests[-1].output
