"""A2 (training deep networks) as shipped in courseapp/demo/assignments/a2: the reference solution
scores full marks; each wrong solution loses exactly the checks it breaks, saying where."""

from __future__ import annotations

import pytest

from tests.autograder.shipped import Shipped

A2 = Shipped("a2")
AFTER_STEP_1 = "Values of parameter 1 after step 1"
BY_EPOCH = "Values of the learning rate by epoch"


def test_the_reference_solution_scores_full_marks():
    result = A2.grade(A2.source)

    assert A2.check_scores(result) == A2.full
    assert sum(A2.full.values()) == 11


MISTAKES = {
    "Adam without the bias correction of v": (
        [('v_hat = state["v"] / (1 - beta2 ** state["t"])', 'v_hat = state["v"]')],
        {"Adam"},
        AFTER_STEP_1,
    ),
    "Nesterov written as plain momentum": (
        [
            (
                'p.sub_(group["lr"] * (p.grad + group["momentum"] * state["v"]))',
                'p.sub_(group["lr"] * state["v"])',
            )
        ],
        {"Nesterov momentum"},
        AFTER_STEP_1,
    ),
    "Adagrad that forgets the past gradients": (
        [("s.add_(p.grad * p.grad)", "s.copy_(p.grad * p.grad)")],
        {"Adagrad"},
        "Values of parameter 1 after step 2",
    ),
    "RMSprop without (1 - alpha)": (
        [
            (
                's.mul_(group["alpha"]).add_((1 - group["alpha"]) * p.grad * p.grad)',
                's.mul_(group["alpha"]).add_(p.grad * p.grad)',
            )
        ],
        {"RMSprop"},
        AFTER_STEP_1,
    ),
    "an exponential schedule that steps once too often": (
        [("return base * self.gamma ** epoch", "return base * self.gamma ** (epoch + 1)")],
        {"exponential schedule"},
        f"{BY_EPOCH}: 11 of 12 differ; the first at index [1]",
    ),
    "a piecewise schedule that changes one epoch late": (
        [
            (
                "sum(1 for m in self.milestones if m <= epoch)",
                "sum(1 for m in self.milestones if m < epoch)",
            )
        ],
        {"piecewise constant schedule"},
        f"{BY_EPOCH}: 2 of 12 differ; the first at index [3]",
    ),
    "a performance schedule that is too impatient": (
        [("if self.bad_epochs > self.patience:", "if self.bad_epochs >= self.patience:")],
        {"performance schedule"},
        BY_EPOCH,
    ),
    "BatchNorm using the batch statistics in eval mode": (
        [
            (
                "        if self.training:\n            mean = x.mean(dim=0)",
                "        if True:\n            mean = x.mean(dim=0)",
            )
        ],
        {"batch normalization"},
        "Values of the output in evaluation mode",
    ),
    "dropout without rescaling": (
        [("return x * keep / (1 - self.p)", "return x * keep")],
        {"inverted dropout"},
        "expected 1/(1-p) = 1.333",
    ),
    "Adam inheriting torch's Adam": (
        [("class Adam(Optimizer):", "class Adam(torch.optim.Adam):")],
        {"Adam"},
        "forbids: torch.optim.Adam",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_wrong_solution_loses_exactly_the_checks_it_breaks(mistake):
    edits, broken, message = MISTAKES[mistake]

    A2.assert_loses_exactly(A2.grade(A2.solution(*edits)), broken, message)
