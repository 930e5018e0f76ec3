"""A1 (neural network basics) as shipped in courseapp/demo/assignments/a1: its reference solution
scores full marks, and each of these wrong solutions loses exactly the checks it breaks, with
feedback that names the problem. Each grading runs the real sandbox (a few seconds)."""

from __future__ import annotations

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
        [
            (
                "torch.where(x > 0, x, negative_slope * x)",
                "torch.where(x > 0, negative_slope * x, x)",
            )
        ],
        {"leaky ReLU"},
        "Values of the output",
    ),
    "ELU without the -1": (
        [
            (
                "alpha * torch.expm1(torch.clamp(x, max=0))",
                "alpha * torch.exp(torch.clamp(x, max=0))",
            )
        ],
        {"ELU"},
        "Values of the output",
    ),
    "ReLU that is not differentiable (built from Python numbers)": (
        [
            (
                "return torch.where(x > 0, x, torch.zeros_like(x))",
                "return torch.tensor([max(0.0, v) for v in x.flatten().tolist()]).reshape(x.shape)",
            )
        ],
        {"ReLU"},
        "does not depend on its input through autograd",
    ),
    "the forward pass without b2": (
        [("return torch.sigmoid(h @ W2.T + b2)", "return torch.sigmoid(h @ W2.T)")],
        {"forward pass"},
        "Values of the output",
    ),
    "the risk summed, not averaged": (
        [
            (
                "return ((predictions - targets) ** 2).mean()",
                "return ((predictions - targets) ** 2).sum()",
            )
        ],
        {"empirical risk"},
        "Values of the output",
    ),
    "the L2 gradient without its factor 2": (
        [
            (
                "return theta - lr * (grad + 2 * lam * theta)",
                "return theta - lr * (grad + lam * theta)",
            )
        ],
        {"gradient step with L2"},
        "Values of the output",
    ),
    "ReLU calling the forbidden torch.relu": (
        [("return torch.where(x > 0, x, torch.zeros_like(x))", "return torch.relu(x)")],
        {"ReLU"},
        "forbids: torch.relu",
    ),
    # tanh is 2 * sigmoid(2x) - 1 through the student's sigmoid: torch.sigmoid is tanh's relative
    "sigmoid calling a forbidden API by a name the source does not show": (
        [
            (
                "    return torch.where(x >= 0, positive, z / (1 + z))",
                "    return getattr(torch, 'sig' + 'moid')(x)",
            )
        ],
        {"sigmoid", "tanh"},
        "It calls torch.sigmoid",
    ),
    "ReLU as clamp, a relative of torch.relu": (
        [
            (
                "    return torch.where(x > 0, x, torch.zeros_like(x))",
                "    return torch.clamp(x, min=0)",
            )
        ],
        {"ReLU"},
        "torch.clamp (a relative of torch.relu)",
    ),
    "ReLU as threshold(x, 0, 0)": (
        [
            (
                "    return torch.where(x > 0, x, torch.zeros_like(x))",
                "    return torch.nn.functional.threshold(x, 0.0, 0.0)",
            )
        ],
        {"ReLU"},
        "torch.nn.functional.threshold (a relative of torch.relu)",
    ),
    "leaky ReLU as rrelu with equal bounds": (
        [
            (
                "    return torch.where(x > 0, x, negative_slope * x)",
                "    s = negative_slope\n"
                "    return torch.nn.functional.rrelu(x, s, s, training=False)",
            )
        ],
        {"leaky ReLU"},
        "torch.nn.functional.rrelu (a relative of torch.nn.functional.leaky_relu)",
    ),
    "ELU as celu": (
        [
            (
                "    return torch.where(x > 0, x, alpha * torch.expm1(torch.clamp(x, max=0)))",
                "    return torch.nn.functional.celu(x, alpha)",
            )
        ],
        {"ELU"},
        "forbids: torch.nn.functional.celu (cell activations",  # A1 names it
    ),
    "the squared error as a Huber loss with a large delta": (
        [
            (
                "return ((predictions - targets) ** 2).mean()",
                "return 2 * torch.nn.functional.huber_loss(predictions, targets, delta=1e9)",
            )
        ],
        {"empirical risk"},
        "torch.nn.functional.huber_loss (a relative of torch.nn.functional.mse_loss)",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_wrong_solution_loses_exactly_the_checks_it_breaks(mistake):
    edits, broken, message = MISTAKES[mistake]

    result = A1.grade(A1.solution(*edits))

    A1.assert_loses_exactly(result, broken, message)


def test_patching_torch_in_the_notebook_gains_nothing():
    # Out of the tampering scan's sight; the reach scan sees __import__, and every check scores 0
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

    result = A1.grade(submitted)

    assert A1.check_scores(result) == dict.fromkeys(FULL, 0)
    assert "reaches for __import__ (cell activations, line 2)" in result.tests[-1].output


def test_the_issues_three_lines_that_switch_the_guard_off_score_zero_and_are_logged():
    cheat = (
        "_p = __import__('probes')\n"
        "vars(_p)['_trap'] = lambda d, c: (lambda: None)\n"
        "vars(_p)['_ForbiddenOps'] = None\n"
    )
    submitted = A1.solution(
        ("def elu(x, alpha=1.0):\n", cheat + "\n\ndef elu(x, alpha=1.0):\n"),
        (
            "    return torch.where(x > 0, x, alpha * torch.expm1(torch.clamp(x, max=0)))",
            "    return getattr(torch.nn.functional, 'e' + 'lu')(x, alpha)",
        ),
    )

    result = A1.grade(submitted)

    assert A1.check_scores(result) == dict.fromkeys(FULL, 0)
    assert "reaches for __import__ (cell activations" in result.tests[-1].output
    assert "Reaches for the checking machinery: the name 'probes'" in result.log


def test_patching_torch_in_plain_sight_scores_zero_on_every_check():
    submitted = A1.solution(
        ("def sigmoid(x):", "torch.relu = lambda x: x.clamp(min=0)\n\n\ndef sigmoid(x):")
    )

    result = A1.grade(submitted)

    assert A1.check_scores(result) == dict.fromkeys(FULL, 0)
    assert "Your code changes torch.relu (cell activations, line 1)" in result.tests[-1].output
