"""The guard around the reference checks (autograder/guard.py), sealed in a process of its own as
the runners seal it, with the student's code beside it: every known way around it fails or leaves
a finding on standard error, and outputs it did not make are not vouched for.

These run the guard in a plain subprocess (no sandbox: what is under test is the guard, not the
isolation), so that each cheat costs a second, not a whole grading."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from autograder import probes
from autograder.checks.exchange import probe_spec, save_inputs
from autograder.checks.inputs import make_inputs
from autograder.checks.parsing import parse
from autograder.findings import at_run_time

AUTOGRADER = Path(__file__).resolve().parents[2] / "autograder"
KEY = "k" * 64
[ELU] = parse(
    [
        {
            "name": "ELU",
            "kind": "function",
            "target": "elu",
            "reference": "torch.nn.functional.elu",
            "inputs": [[4, 5]],
            "kwargs": {"alpha": 1.5},
            "gradients": True,
            "points": 1,
            "forbid": ["torch.nn.functional.elu"],
        }
    ],
    default_module="student",
)
HONEST = """import torch

def elu(x, alpha=1.0):
    return torch.where(x > 0, x, alpha * torch.expm1(torch.clamp(x, max=0)))
"""
DRIVER = """import sys
import guard
guard.seal({key!r})
{before}
try:
    sys.audit("autograder.check", {spec!r})
except AssertionError as exc:
    print("FAILED:", exc)
"""


def run_check(tmp_path, student: str, *, before: str = "import student", check=ELU):
    """Seal the guard, import the student's module, run ``check``: (what the check said,
    the guard's findings, the outputs it vouches for or None)."""
    for name in ("guard.py", "probes.py"):
        shutil.copyfile(AUTOGRADER / name, tmp_path / name)
    (tmp_path / "student.py").write_text(student)
    inputs = save_inputs(make_inputs(check))
    (tmp_path / check.files()[0]).write_bytes(inputs)
    spec = json.dumps(probe_spec(check))
    (tmp_path / "run.py").write_text(DRIVER.format(key=KEY, before=before, spec=spec))
    done = subprocess.run(
        [sys.executable, "run.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
    )
    outputs = tmp_path / check.files()[1]
    vouched = (
        probes.attested([KEY], probe_spec(check), inputs, outputs.read_bytes())
        if outputs.exists()
        else None
    )
    said = "\n".join(line for line in done.stdout.splitlines() if line.startswith("FAILED:"))
    assert "Traceback" not in done.stderr or said or vouched is None, done.stderr
    return said, at_run_time(done.stderr), vouched


def test_it_vouches_for_an_honest_solution_and_finds_nothing(tmp_path):
    said, found, vouched = run_check(tmp_path, HONEST)

    assert (said, found) == ("", [])
    assert vouched is not None and set(vouched) == {"out", "grad_arg0"}


def body(code: str) -> str:
    """The honest module with ``code`` at the top of elu's body."""
    return HONEST.replace("def elu(x, alpha=1.0):\n", "def elu(x, alpha=1.0):\n" + code)


CHEATS = {
    # the three lines, then the forbidden function by a computed name
    "the issue's: rebinding the traps through vars()": (
        "import torch\n_p = __import__('probes')\nvars(_p)['_trap'] = lambda d, c: (lambda: None)\n"
        "def elu(x, alpha=1.0):\n    return getattr(torch.nn.functional, 'e' + 'lu')(x, alpha)\n",
        "imports probes",
    ),
    "gc.get_objects to find the guard": (
        "import gc, torch\n_all = gc.get_objects()\n" + HONEST.partition("\n")[2],
        "calls gc.get_objects (student.py, line 2)",
    ),
    "a frame of the checker from inside the function": (
        body("    import sys\n    sys._getframe(1).f_locals\n"),
        "calls sys._getframe (student.py",
    ),
    "frames through inspect": (
        body("    import inspect\n    inspect.stack()\n"),
        "calls sys._getframe (student.py",
    ),
    "a frame through a traceback": (
        body(
            "    try:\n        1 / 0\n    except ZeroDivisionError as e:\n"
            "        e.__traceback__.tb_frame.f_back\n"
        ),
        "reads tb_frame (student.py",
    ),
    "importlib to load the checker again": (
        body("    import importlib\n    importlib.import_module('guard')\n"),
        "imports",
    ),
    "reading the checker's source": (
        body("    open('guard.py').read()\n"),
        "opens guard.py",
    ),
    "the builtins changed": (
        "import builtins, torch\nbuiltins.isinstance = lambda a, b: True\n"
        + HONEST.partition("\n")[2],
        "changes builtins.isinstance",
    ),
    "a torch function the probe calls, monkeypatched": (
        "import torch\ntorch.Tensor.detach = lambda self: self\n" + HONEST.partition("\n")[2],
        "changes Tensor.detach",
    ),
    "the dispatch mode popped around a forbidden operator": (
        body(
            "    from torch.utils._python_dispatch import _pop_mode_temporarily\n"
            "    with _pop_mode_temporarily():\n"
            "        return torch.ops.aten.elu(x, alpha)\n"
        ),
        "runs torch.nn.functional.elu past the guard",
    ),
    "torch dispatch disabled around a relative": (
        body(
            "    with torch._C._DisableTorchDispatch():\n"
            "        return torch.ops.aten.celu(x, alpha)\n"
        ),
        "runs aten::celu (a relative of torch.nn.functional.elu) past the guard",
    ),
    "a thread that runs the forbidden operator": (
        body(
            "    import threading\n    out = []\n"
            "    t = threading.Thread(target=lambda: out.append(torch.ops.aten.elu(x, alpha)))\n"
            "    t.start(); t.join()\n    return out[0]\n"
        ),
        "starts a thread while a check runs",
    ),
    "exec of code built from strings": (
        body("    exec('import sy' + 's')\n"),
        "runs code made at run time (exec/eval)",
    ),
    "an audit hook of its own": (
        "import sys, torch\nsys.addaudithook(lambda *a: None)\n" + HONEST.partition("\n")[2],
        "calls sys.addaudithook",
    ),
}


BEFORE_THE_CHECK = {
    "gc.get_objects to find the guard",
    "the builtins changed",
    "an audit hook of its own",
}


@pytest.mark.parametrize("cheat", list(CHEATS))
def test_each_cheat_is_a_finding_and_the_check_fails(tmp_path, cheat):
    student, finding = CHEATS[cheat]

    said, found, vouched = run_check(tmp_path, student)

    # A finding is on standard error, where the worker reads it and scores every check 0
    # (test_checks: ..._seen_by_the_guard); one made while the check runs fails it there too.
    assert any(finding in f for f in found), (found, said)
    if cheat not in BEFORE_THE_CHECK:
        assert vouched is None and said.startswith("FAILED:")


def test_a_reach_that_cannot_be_reported_is_refused(tmp_path):
    # the findings' channel closed first: gc.get_objects would go unreported, so it is refused
    student = (
        "import gc, os, torch\nos.closerange(3, 1024)\n"
        "try:\n    LOOT = gc.get_objects()\nexcept PermissionError:\n    LOOT = None\n"
        + HONEST.partition("\n")[2].replace("return", "return x * 0 if LOOT else", 1)
    )

    said, _, vouched = run_check(tmp_path, student)

    x = make_inputs(ELU)["arg0"]
    assert said == "" and vouched is not None
    assert torch.allclose(vouched["out"], torch.nn.functional.elu(x, 1.5))  # LOOT was None


def test_a_relative_of_the_forbidden_function_is_refused(tmp_path):
    said, found, vouched = run_check(
        tmp_path, body("    return torch.nn.functional.celu(x, 1.0)\n")
    )

    assert said == (
        "FAILED: It calls torch.nn.functional.celu (a relative of torch.nn.functional.elu), which "
        "this check forbids."
    )
    assert vouched is None and found == []


def test_a_tensor_subclass_that_answers_for_torchs_methods_is_refused(tmp_path):
    student = HONEST + (
        "\nclass Sly(torch.Tensor):\n    @classmethod\n"
        "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
        "        return super().__torch_function__(func, types, args, kwargs or {})\n"
        "\n_elu = elu\ndef elu(x, alpha=1.0):\n    return _elu(x, alpha).as_subclass(Sly)\n"
    )

    said, _, vouched = run_check(tmp_path, student)

    assert "is a Sly: return a plain torch.Tensor" in said and vouched is None


def test_outputs_written_in_the_checkers_place_are_not_vouched_for(tmp_path):
    # sys.audit replaced: the check cell's call never reaches the guard; the student's stand-in
    # writes right outputs (computed with the forbidden function), without the key
    forge = (
        "import sys, torch, json\nfrom safetensors.torch import load_file, save_file\n"
        "def fake(event, spec):\n    spec = json.loads(spec)\n"
        "    x = load_file(spec['inputs'])['arg0']\n"
        "    save_file({'out': torch.nn.functional.elu(x, 1.5)}, spec['outputs'])\n"
        "sys.audit = fake\n"
    )

    said, found, vouched = run_check(tmp_path, HONEST + forge)

    assert said == "" and vouched is None
    assert any("changes sys.audit" in f for f in found) or found == []


def test_the_checkers_outputs_for_a_spec_the_student_changed_are_not_vouched_for(tmp_path):
    # The real checker, called by the student's code on the check's spec without its forbid
    spec = probe_spec(ELU)
    lax = json.dumps({**spec, "forbid": {}, "forbid_ops": {}})
    before = f"import student, sys\nsys.audit('autograder.check', {lax!r})\nsys.exit(0)"

    _, _, vouched = run_check(tmp_path, HONEST, before=before)

    assert vouched is None  # its attestation names the spec it ran, not the worker's
