"""Warming a worker process before it takes its first task, so that the first submission it
grades does not pay for what every submission shares: measured on a fresh process, the first
grading took 40 s against 15 to 20 s warm.

What the first grading would pay, done here once instead (``warm_worker``):

* the warm sandbox's zygote (``sandbox.warm.prestart``), started first: it imports torch, the
  kernel and the runners in its own process while the steps below run in this one;
* ``host.torch_address_space``: what importing torch maps, which each run's memory limit counts
  (read from the host's cache, or measured once in a child: seconds);
* the reference side: torch itself, the probes, safetensors, autograd and the deterministic
  settings, the device (CUDA's start on a GPU worker), all through one tiny reference run and
  its comparison, as ``checks.scoring`` and ``checks.reference`` do them;
* the source scans (``checks.tampering``, ``reach``, ``checks.forbidden``): the families, and the
  torch modules that ``forbidden.torch_object`` imports to compare names by identity;
* the training checks' data set (``checks.digits``: scikit-learn and SciPy, ~3 s to import);
* reading and validating a notebook (``notebooks.read``).

Run in each prefork child (``celery.signals.worker_process_init``, connected in ``apps``), never
in the parent: CUDA and torch's thread pools do not survive a fork. It never fails the worker's
start: a step that fails is logged and the worker goes on (the first grading then pays for it).
"""

from __future__ import annotations

import logging
import time

from autograder import families
from autograder.sandbox import host, warm

logger = logging.getLogger(__name__)

# One check of the simplest kind, as an assignment's autograder.toml would give it.
WARM_CHECK = b"""
[[checks]]
name = "warm-up"
kind = "function"
target = "elu"
reference = "torch.nn.functional.elu"
inputs = [[4, 5]]
gradients = true
forbid = ["torch.nn.functional.elu"]
points = 1
"""
WARM_SOURCE = {
    "warmup.py": b"import torch\n"
    b"import torch.nn.functional as F\n\n"
    b"def elu(x, alpha=1.0):\n"
    b"    return torch.where(x > 0, x, alpha * (torch.exp(x) - 1))\n"
}
_warmed = False


def warm_worker() -> dict[str, float]:
    """Warm this process; the seconds each step took (a failed one is left out). Once per
    process: a second call returns {} at once."""
    global _warmed
    if _warmed:
        return {}
    _warmed = True
    steps = {
        # First: the zygote imports torch in its own process while the steps below run here.
        "warm sandbox": warm.prestart,
        "torch address space": host.torch_address_space,
        "reference run": _reference_run,
        "source scans": _source_scans,
        "data sets": _data_sets,
        "notebooks": _notebooks,
    }
    took = {}
    for name, step in steps.items():
        started = time.monotonic()
        try:
            step()
        except Exception:
            logger.warning(
                "warming the worker: %s failed; the first grading pays for it", name, exc_info=True
            )
            continue
        took[name] = round(time.monotonic() - started, 3)
    logger.info("worker process warmed: %s", ", ".join(f"{n} {s} s" for n, s in took.items()))
    return took


def _warm_check():
    from autograder.checks.parsing import parse_toml

    [check] = parse_toml(WARM_CHECK, default_module="warmup")
    return check


def _reference_run() -> None:
    """One reference run and its verdict, the way a grading makes them: inputs, the reference on
    the worker's device, the outputs through safetensors, the comparison."""
    from autograder.checks.exchange import load_outputs, save_inputs
    from autograder.checks.inputs import make_inputs
    from autograder.checks.reference import best_device, problem, reference_outputs

    check = _warm_check()
    inputs = make_inputs(check, {}, {})
    expected = reference_outputs(check, inputs, device=best_device(), private={})
    actual = load_outputs(save_inputs(expected))  # the way the student's outputs come back
    verdict = problem(check, inputs, actual, device="cpu", private={}, expected=expected)
    if verdict:
        raise RuntimeError(f"the warm-up reference does not match itself: {verdict}")


def _source_scans() -> None:
    """The scans a grading makes of the student's source before anything runs, and every torch
    name a family can forbid resolved once (``forbidden.torch_object`` keeps them)."""
    from autograder import reach
    from autograder.checks.forbidden import forbidden_uses, torch_object
    from autograder.checks.tampering import tampering

    check = _warm_check()
    tampering(WARM_SOURCE)
    reach.reaches(WARM_SOURCE)
    forbidden_uses(WARM_SOURCE, check.forbidden, target=check.target_name)
    for family in families.FAMILIES:
        for name in (*family.forms, *family.relatives):
            torch_object(name)


def _data_sets() -> None:
    """What ``checks.digits`` loads for a training check's inputs: scikit-learn's digits."""
    from sklearn.datasets import load_digits

    load_digits()


def _notebooks() -> None:
    import nbformat

    from autograder import notebooks

    notebooks.read(notebooks.dumps(nbformat.v4.new_notebook()))
