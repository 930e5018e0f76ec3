"""Comparing the student's outputs with the reference's, stage by stage: present, then shape,
dtype and values; for values, the first mismatching index, the expected and actual values there,
and the largest absolute and relative errors. Keys are named in words for the student
(``describe``).

torch is imported where it is used, so that reading a spec (``parsing``, ``cells``,
``autograder.harness``) does not load it: some seconds of start-up that tools and tests which
only read specs do without.
"""

from __future__ import annotations

import math

from autograder.checks.spec import Check

WHAT = {
    "out": "the output",
    "train.out": "the output in training mode",
    "eval.out": "the output in evaluation mode",
    "train.grad.x": "the gradient with respect to the input",
    "train.again": "the output of a second call in training mode",
    "lr": "the learning rate by epoch",
    "forward": "the output of the network it returns",
    "tracks_grad": "whether what it returned tracks gradients",
}


def describe(key: str) -> str:
    call, _, rest = key.partition(".")
    if call.startswith("call") and call[4:].isdigit():  # a network check called more than once
        return f"{describe(rest)} after call {call[4:]}"
    if key in WHAT:
        return WHAT[key]
    if key.startswith("trainable."):
        return f"whether {key[10:]} is trained"
    if key.startswith("param."):
        return f"parameter {key[6:]} of the network it returns"
    if key.startswith("grad_arg"):
        return f"the gradient with respect to argument {int(key[8:]) + 1}"
    if key.startswith("train.grad."):
        return f"the gradient of {key[11:]}"
    if key.startswith("train."):
        return f"{key[6:]} after a training step"
    if key.startswith("step"):
        step, _, param = key.partition(".")
        return f"parameter {int(param[5:]) + 1} after step {int(step[4:]) + 1}"
    return key


FLAGS = ("trainable.", "tracks_grad", "inference")


def compare(check: Check, expected: dict, actual: dict) -> str:
    """ "" when ``actual`` matches ``expected`` everywhere; else what differs first."""
    for key, want in expected.items():
        rest, case = _case(check, key)
        got = actual.get(key)
        problem = (
            _flag(rest, want, got)
            if any(f in rest for f in FLAGS)
            else _compared(describe(rest), want, got, check)
        )
        if problem:
            return problem[:-1] + f" ({case})." if case else problem
    return ""


def _case(check: Check, key: str) -> tuple[str, str]:
    """``key`` without a network check's case prefix, and that case's arguments in words."""
    head, _, rest = key.partition(".")
    if not (head.startswith("case") and head[4:].isdigit()):
        return key, ""
    kwargs = check.options["cases"][int(head[4:]) - 1]  # a network check's
    return rest, "with " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _compared(what: str, want, got, check: Check) -> str:
    if got is None:
        return f"{what.capitalize()} is missing."
    if tuple(got.shape) != tuple(want.shape):
        return f"Shape of {what}: expected {tuple(want.shape)}, got {tuple(got.shape)}."
    if got.dtype != want.dtype:
        return f"Dtype of {what}: expected {_dtype(want)}, got {_dtype(got)}."
    problem = _values(got, want, *check.tolerances_for(_dtype(want)))
    return f"Values of {what}: {problem}" if problem else ""


def _flag(key: str, want, got) -> str:
    """A network's parameter that should (not) be trained, or a result that should not track
    gradients or not be an inference tensor: said in words."""
    call, _, rest = key.partition(".")
    numbered = call.startswith("call") and call[4:].isdigit()
    after, rest = (f" after call {call[4:]}", rest) if numbered else ("", key)
    if rest in ("tracks_grad", "inference"):
        if got is None or bool(got) == bool(want):
            return ""
        if rest == "inference":
            return (
                f"What it returned{after} is an inference tensor (torch.inference_mode): "
                "autograd cannot use it later; compute it under torch.no_grad()."
            )
        return (
            f"What it returned{after} should not track gradients: compute it under "
            "torch.no_grad() (or detach it)."
            if want == 0
            else f"What it returned{after} should track gradients."
        )
    name = rest[len("trainable.") :]
    if got is None:
        return f"The network it returns{after} has no parameter {name}."
    if bool(got) != bool(want):
        should = "stay trainable (requires_grad=" if want else "be frozen (requires_grad="
        should += f"{bool(want)})"
        return f"{name} should {should}{after}; it is {'trainable' if got else 'frozen'}."
    return ""


def _dtype(tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _values(got, want, rtol: float, atol: float) -> str:
    import torch

    got64, want64 = got.double(), want.double()
    nan_mismatch = torch.isnan(got64) != torch.isnan(want64)
    close = torch.isclose(got64, want64, rtol=rtol, atol=atol, equal_nan=True) & ~nan_mismatch
    if bool(close.all()):
        return ""
    bad = (~close).nonzero()[0].tolist()
    index = tuple(bad)
    abs_err = (got64 - want64).abs()
    finite = torch.isfinite(abs_err)
    max_abs = float(abs_err[finite].max()) if bool(finite.any()) else math.inf
    nonzero = want64 != 0  # relative to 0 means nothing
    rel = (abs_err / want64.abs())[nonzero & finite]
    max_rel = _number(rel.max()) if rel.numel() else "n/a"
    where = f"at index {list(index)}" if index else "at the only element"
    mismatched = int((~close).sum())
    return (
        f"{mismatched} of {close.numel()} differ; the first {where}: expected "
        f"{_number(want64[index])}, got {_number(got64[index])} (largest absolute error "
        f"{_number(max_abs)}, largest relative error {max_rel}; tolerance rtol={rtol:g}, "
        f"atol={atol:g})."
    )


def _number(value) -> str:
    value = float(value)
    return f"{value:.6g}"
