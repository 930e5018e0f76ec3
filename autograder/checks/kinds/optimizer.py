"""``kind = "optimizer"``: an optimizer built with ``init`` on parameters of the ``inputs``
shapes, stepped ``steps`` times with the same seeded gradients as the reference; the parameters
after each step compared, and an optimizer that never moves them refused."""

from __future__ import annotations

from collections.abc import Callable

from autograder.checks import compare
from autograder.checks.kinds.base import Kind, Seeded
from autograder.checks.spec import Check


class Optimizer(Kind):
    name = "optimizer"
    probe = "optimizer"
    fields = {"steps": 5}

    def make_inputs(
        self, check: Check, seeded: Seeded, *, private: dict | None, data: dict | None
    ) -> dict:
        tensors = {}
        for i, shape in enumerate(check.inputs):
            tensors[f"param{i}"] = seeded.randn(shape)
            for step in range(check.options["steps"]):
                tensors[f"grad{step}.{i}"] = seeded.randn(shape)
        return tensors

    def spec(self, check: Check) -> dict:
        return {"steps": check.options["steps"], "parameters_count": len(check.inputs)}

    def problem(
        self, check: Check, inputs: dict, actual: dict, expected: Callable[[], dict]
    ) -> str:
        found = compare.compare(check, expected(), actual)
        if not found and never_changes(inputs, actual, check):
            return "Its step() never changes the parameters."
        return found


def never_changes(initial: dict, actual: dict, check: Check) -> bool:
    """An optimizer whose steps leave every parameter where it started."""
    import torch

    return all(
        torch.equal(actual[f"step{step}.param{i}"], initial[f"param{i}"])
        for step in range(check.options["steps"])
        for i in range(len(check.inputs))
        if f"step{step}.param{i}" in actual
    )
