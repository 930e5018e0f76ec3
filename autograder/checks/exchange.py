"""What crosses into and out of the sandbox for a check: the spec its probe gets
(``probe_spec``), its inputs and the student's outputs as safetensors (no pickle), and the files
the sandbox shows in place of the real ones while checks run (``public_datasets``).

torch is imported where it is used, so that reading a spec (``parsing``, ``cells``,
``autograder.harness``) does not load it: some seconds of start-up that tools and tests which
only read specs do without."""

from __future__ import annotations

import json
from pathlib import Path

from autograder import families
from autograder.checks.registry import KINDS, kind_of
from autograder.checks.spec import Check


def public_datasets(found) -> dict[Path, bytes]:
    """The files the sandbox shows in place of the real ones while ``found`` checks run: each
    kind's (``Kind.public_files``), such as a data set without the rows a check holds out."""
    replaced: dict[Path, bytes] = {}
    for kind in KINDS.values():
        replaced.update(kind.public_files([c for c in found if c.kind == kind.name]))
    return replaced


MAX_OUTPUT_TENSORS = 256


def load_outputs(data: bytes) -> dict | None:
    """The student's outputs, from safetensors bytes (no pickle); None if they are not that, or
    hold more tensors than any probe writes (a file of a million empty tensors costs seconds)."""

    from safetensors.torch import load

    try:
        header_size = int.from_bytes(data[:8], "little")
        if not 2 <= header_size <= min(len(data) - 8, 1 << 20):
            return None
        header = json.loads(data[8 : 8 + header_size])
        if not isinstance(header, dict) or len(header) > MAX_OUTPUT_TENSORS + 1:
            return None
        return dict(load(data))
    except Exception:
        return None


def save_inputs(tensors: dict) -> bytes:
    from safetensors.torch import save

    return save({k: v.contiguous() for k, v in tensors.items()})


def probe_spec(check: Check) -> dict:
    """What ``probes.run`` gets in the sandbox: ``probe`` names its procedure
    (``probes.PROBES``); a kind adds fields of its own (``Kind.spec``)."""
    inputs, outputs = check.files()
    forbidden = check.forbidden
    kind = kind_of(check)
    spec = {
        "kind": check.kind,
        "probe": kind.probe,
        "target": check.target,
        "seed": check.seed,
        "inputs": inputs,
        "outputs": outputs,
        "forbid": _labels(forbidden.python, forbidden),
        "forbid_ops": _labels(forbidden.aten, forbidden),
        "gradients": check.gradients,
        "kwargs": check.kwargs,
        "init": check.init,
        "arity": len(check.inputs),
    }
    spec.update(kind.spec(check))
    timeout = kind.cell_timeout(check)
    if timeout is not None:  # the Python runner's limit for this check's test (pyrunner._timeout)
        spec["timeout"] = timeout
    return spec


def _labels(names: dict, forbidden: families.Forbidden) -> dict[str, str]:
    return {name: forbidden.label(name) for name in sorted(names)}
