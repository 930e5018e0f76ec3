"""``kind = "statistical"``: random behaviour (dropout) judged by its contract rather than against
a reference: the fraction ``p`` (in ``init`` or ``kwargs``) dropped within ``tolerance``, afresh
on every call, the rest scaled by 1/(1-p), and the input back in evaluation mode."""

from __future__ import annotations

from collections.abc import Callable

from autograder.checks.compare import describe
from autograder.checks.kinds.base import Kind, Seeded
from autograder.checks.spec import TOLERANCES, Check, CheckError


class Statistical(Kind):
    name = "statistical"
    probe = "statistical"
    has_reference = False
    fields = {"tolerance": 0.01}  # how far the fraction dropped may be from p

    def parse(self, values: dict, name: str) -> None:
        p = {**values.get("init", {}), **values.get("kwargs", {})}.get("p")
        if not isinstance(p, int | float) or not 0 <= p < 1:
            raise CheckError(f"check {name!r}: a statistical check needs p (0 <= p < 1).")

    def make_inputs(
        self, check: Check, seeded: Seeded, *, private: dict | None, data: dict | None
    ) -> dict:
        return {"x": (seeded.rand(check.inputs[0]) + 0.5).to(seeded.dtype)}  # a 0 was dropped

    def problem(
        self, check: Check, inputs: dict, actual: dict, expected: Callable[[], dict]
    ) -> str:
        return statistical_problem(check, inputs, actual)


def statistical_problem(check: Check, inputs: dict, actual: dict) -> str:
    """Dropout's contract: in training mode about a fraction p of the units is zeroed, afresh on
    every call, and the rest are scaled by 1/(1-p); in evaluation mode the input comes back."""
    import torch

    p = {**check.init, **check.kwargs}["p"]
    x = inputs["x"].double()
    for key in ("train.out", "train.again", "eval.out"):
        got = actual.get(key)
        if got is None or tuple(got.shape) != tuple(x.shape):
            shape = None if got is None else tuple(got.shape)
            return f"Shape of {describe(key)}: expected {tuple(x.shape)}, got {shape}."
    first, second = actual["train.out"].double(), actual["train.again"].double()
    dropped = float((first == 0).double().mean())
    if abs(dropped - p) > check.options["tolerance"]:
        return (
            f"In training mode it zeroed {dropped:.4f} of the units; expected p = {p:g} "
            f"(within {check.options['tolerance']:g}, over {first.numel()} units)."
        )
    kept = first != 0
    if bool(kept.any()):
        scale = first[kept] / x[kept]
        want = 1 / (1 - p)
        rtol = max(4 * TOLERANCES[check.dtype][0], 1e-4)  # x / (1 - p) rounds in the dtype
        if not torch.allclose(scale, torch.full_like(scale, want), rtol=rtol, atol=1e-6):
            return (
                f"In training mode the units it kept are scaled by {float(scale.mean()):.4g} on "
                f"average; expected 1/(1-p) = {want:.4g} (inverted dropout)."
            )
    if p > 0 and torch.equal(first == 0, second == 0):
        return "In training mode it dropped the same units on two calls: drop them at random."
    if not torch.allclose(actual["eval.out"].double(), x):
        return "In evaluation mode it should return its input unchanged."
    return ""
