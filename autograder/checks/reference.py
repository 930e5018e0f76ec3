"""The reference, run here in the trusted worker, never next to the student's code: on CUDA when
the worker has one (TF32 off, deterministic algorithms on), through the same probe
(``probes.PROBES``) as the student's object went through in the sandbox; and the verdict on the
student's outputs against it (``problem``), which each kind gives (``Kind.problem``).

torch is imported where it is used, so that reading a spec (``parsing``, ``cells``,
``autograder.harness``) does not load it: some seconds of start-up that tools and tests which
only read specs do without.
"""

from __future__ import annotations

import contextlib

from autograder.checks.exchange import probe_spec
from autograder.checks.loading import resolve
from autograder.checks.registry import kind_of
from autograder.checks.spec import Check


def best_device() -> str:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


@contextlib.contextmanager
def _deterministic():
    import torch

    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
    )
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0])
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[1:]


def reference_outputs(check: Check, inputs: dict, *, device: str, private: dict) -> dict:
    """What the reference gives for ``inputs``, computed on ``device``, returned on the CPU:
    the same procedure (``probes``) as the student's object went through in the sandbox."""
    import torch

    from autograder import probes  # torch, at its import: only where a reference runs

    kind = kind_of(check)
    on = {k: v.to(device) for k, v in inputs.items()}
    reference = resolve(check.reference, private)
    module = check.reference.partition(":")[0]  # the instructor's classes, beside the reference
    spec = kind.with_objects(
        check, probe_spec(check), lambda name: resolve(f"{module}:{name}", private)
    )
    with _deterministic():
        torch.manual_seed(check.seed)
        outputs = probes.PROBES[kind.probe](reference, on, spec)
    return {k: v.detach().cpu() for k, v in outputs.items()}


def problem(
    check: Check, inputs: dict, actual: dict, *, device: str, private: dict, expected=None
) -> str:
    """What is wrong with the student's outputs ``actual`` for ``inputs``, "" if nothing: the
    kind's verdict, against the reference's outputs (computed here, unless ``expected`` has
    them) where it has a reference."""

    def reference() -> dict:
        if expected is not None:
            return expected
        return reference_outputs(check, inputs, device=device, private=private)

    return kind_of(check).problem(check, inputs, actual, reference)
