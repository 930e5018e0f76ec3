"""Reference checks: the student's function, module, optimizer, scheduler, dropout and trained
model against the reference, compared in the worker, never next to the student's code.

``checks_fixture/`` holds a spec with one check of each kind and a right solution; the wrong
solutions below are that solution with one mistake each (``reference_checks.with_mistake``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import torch

from autograder import harness
from autograder.checks.compare import compare
from autograder.checks.exchange import MAX_OUTPUT_TENSORS, load_outputs
from autograder.checks.inputs import make_inputs
from autograder.checks.kinds.base import EDGE_VALUES
from autograder.checks.parsing import parse
from autograder.checks.reference import best_device
from autograder.checks.spec import CheckError
from autograder.grader import grade_python
from autograder.sandbox import Limits
from tests.autograder.reference_checks import ELU_LINE, POINTS, RIGHT, SPEC, grade, with_mistake

MISTAKES = {
    "Adam without bias correction of the second moment": (
        "vh = v / (1 - self.b2**self.t)",
        "vh = v",
        "Adam",
        "Values of parameter 1 after step 1",
    ),
    "BatchNorm using the batch statistics in eval mode": (
        "        if self.training:",
        "        if True:",
        "BatchNorm",
        "Values of the output in evaluation mode",
    ),
    "BatchNorm's running variance not unbiased": (
        "var * n / (n - 1)",
        "var",
        "BatchNorm",
        "Values of running_var after a training step",
    ),
    "a scheduler that steps once too often": (
        'g["lr"] *= self.gamma',
        'g["lr"] *= self.gamma * self.gamma',
        "exponential schedule",
        "Values of the learning rate by epoch: 5 of 6 differ; the first at index [1]: "
        "expected 0.09, got 0.081",
    ),
    "ELU off by one in a formula": (
        ELU_LINE,
        "return torch.where(x > 0, x, alpha * torch.exp(x))",
        "ELU",
        "Values of the output",
    ),
    "ELU without a gradient": (
        ELU_LINE,
        "return torch.where(x > 0, x, alpha * (torch.exp(x) - 1)).detach()",
        "ELU",
        "does not depend on its input through autograd",
    ),
    "ELU calling the forbidden API": (
        ELU_LINE,
        "return torch.nn.functional.elu(x, alpha)",
        "ELU",
        "uses what this check forbids: torch.nn.functional.elu (nn.py, line 5)",
    ),
    "ELU calling the forbidden API by a name the source does not show": (
        ELU_LINE,
        'return getattr(torch.nn.functional, "e" + "lu")(x, alpha)',
        "ELU",
        "It calls torch.nn.functional.elu, which this check forbids.",
    ),
    "ELU returning a list": (
        ELU_LINE,
        f"{ELU_LINE}.tolist()",
        "ELU",
        "is a list, not a torch.Tensor",
    ),
    "dropout without rescaling": (
        "return x * keep / (1 - self.p)",
        "return x * keep",
        "inverted dropout",
        "the units it kept are scaled by 1 on average; expected 1/(1-p) = 1.429",
    ),
    "dropout with p the wrong way round": (
        "keep = (torch.rand_like(x) >= self.p)",
        "keep = (torch.rand_like(x) < self.p)",
        "inverted dropout",
        "of the units; expected p = 0.3 (within 0.01",
    ),
    "dropout that drops the same units every time": (
        "keep = (torch.rand_like(x) >= self.p)",
        "keep = (torch.rand(x.shape, generator=torch.Generator().manual_seed(0)) >= self.p)",
        "inverted dropout",
        "dropped the same units on two calls",
    ),
    "dropout also in evaluation mode": (
        "        if not self.training:\n            return x\n",
        "",
        "inverted dropout",
        "In evaluation mode it should return its input unchanged.",
    ),
    "an optimizer that never moves": (
        "            p.sub_(self.lr * mh / (vh.sqrt() + self.eps))",
        "            pass",
        "Adam",
        "Values of parameter 1 after step 1",
    ),
}


def test_the_right_solution_scores_full_marks():
    result = grade(RIGHT)

    assert {t.name: (t.score, t.status) for t in result.tests} == {
        name: (Decimal(points), "passed") for name, points in POINTS.items()
    }
    device = best_device()  # cuda on a GPU machine
    assert result.device == device and f"Reference checks ran on {device}." in result.notes


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_mistake_loses_exactly_its_checks_points_and_is_named(mistake):
    old, new, check, message = MISTAKES[mistake]

    result = grade(with_mistake(old, new))

    scores = {t.name: t.score for t in result.tests}
    assert scores == {n: (0 if n == check else p) for n, p in POINTS.items()}, result.tests
    [failed] = [t for t in result.tests if t.name == check]
    assert message in failed.output
    ran = "forbids: " not in message or "It calls" in message  # a forbidden name: never run
    assert ("(seed " in failed.output) == ran


def test_changing_torch_in_the_sandbox_gains_nothing():
    # Written so that the tampering scan does not see it: the reach scan does (__import__), and
    # without it the guard would (torch's functions are compared with what they were).
    cheat = with_mistake(
        "import torch\n",
        "import torch\n"
        "_t = __import__('torch')\n"
        "setattr(_t, 'allclose', lambda *a, **k: True)\n"
        "setattr(_t.testing, 'assert_close', lambda *a, **k: None)\n"
        "setattr(_t.nn.functional, 'elu', lambda x, alpha=1.0: x * 0)\n"
        "setattr(_t.optim, 'Adam', lambda params, **kw: None)\n",
    )
    cheat = cheat.replace("vh = v / (1 - self.b2**self.t)", "vh = v")  # and a real mistake

    result = grade(cheat)

    assert {t.name: t.score for t in result.tests} == dict.fromkeys(POINTS, 0)
    assert "reaches for __import__ (nn.py, line 2)" in result.tests[0].output
    assert "Reaches for the checking machinery: __import__ (nn.py, line 2)" in result.log


def test_changing_torch_where_no_scan_looks_is_seen_by_the_guard():
    # type(x).clone is torch.Tensor.clone, but no scan of the source can tell
    cheat = with_mistake(
        "def elu(x, alpha=1.0):\n",
        "def elu(x, alpha=1.0):\n    type(x).clone = lambda self: self * 0 + 1\n",
    )

    result = grade(cheat)

    assert {t.name: t.score for t in result.tests} == dict.fromkeys(POINTS, 0)
    assert "at run time changes Tensor.clone at run time" in result.tests[0].output
    assert "Reported by the sandbox's guard: changes Tensor.clone at run time" in result.log


def test_code_that_changes_torch_or_the_checks_scores_zero_on_every_check():
    cheat = with_mistake(
        "import torch\n",
        "import torch\nimport sys\nfrom torch import nn\n"
        "torch.backends.cudnn.deterministic = True\n"  # a setting: allowed
        "nn.Module.named_parameters = lambda self: iter(())\n"
        "sys.modules['probes'] = None\n",
    )

    result = grade(cheat)

    assert {t.name: t.score for t in result.tests} == dict.fromkeys(POINTS, 0)
    message = result.tests[0].output
    assert "Your code changes sys.modules (nn.py, line 6); torch.nn.Module.named_parameters" in (
        message
    )
    assert "torch.backends" not in message


def test_values_name_the_first_mismatch_and_the_largest_errors():
    check = SPEC.checks[0]
    want = torch.tensor([[1.0, 2.0], [3.0, 4.0]])

    same = compare(check, {"out": want}, {"out": want + 1e-7})
    values = compare(check, {"out": want}, {"out": torch.tensor([[1.0, 2.0], [3.5, 0.0]])})
    shape = compare(check, {"out": want}, {"out": want.T.reshape(4)})
    dtype = compare(check, {"out": want}, {"out": want.double()})

    assert same == ""
    assert values.startswith(
        "Values of the output: 2 of 4 differ; the first at index [1, 0]: "
        "expected 3, got 3.5 (largest absolute error 4, largest relative "
        "error 1;"
    )
    assert shape == "Shape of the output: expected (2, 2), got (4,)."
    assert dtype == "Dtype of the output: expected float32, got float64."


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "a", "kind": "magic", "points": 1}, "kind must be one of"),
        ({"name": "a", "kind": "function", "points": 1, "reference": "torch.relu"}, "inputs"),
        ({"name": "a", "kind": "function", "points": 0, "inputs": [[2]]}, "points"),
        ({"name": "a", "kind": "function", "points": 1, "inputs": [[2]]}, "names no reference"),
        ({"name": "a", "kind": "function", "points": 1, "bogus": 1}, "unknown keys"),
        ({"name": "a", "kind": "network", "points": 1, "reference": "ref:f"}, "network must name"),
        (
            {
                "name": "a",
                "kind": "network",
                "points": 1,
                "reference": "torch.relu",
                "network": "Net",
            },
            "reference is in a private file",
        ),
        (
            {
                "name": "a",
                "kind": "network",
                "points": 1,
                "reference": "ref:f",
                "network": "Net",
                "weights": "../w.pt",
            },
            "weights must name a .safetensors file",
        ),
        (
            {
                "name": "a",
                "kind": "network",
                "points": 1,
                "reference": "ref:f",
                "network": "Net",
                "calls": 0,
            },
            "calls must be",
        ),
    ],
)
def test_a_bad_check_is_refused_with_the_reason(entry, message):
    with pytest.raises(CheckError, match=message):
        parse([{"target": "f", **entry}], default_module="nn")


def test_inputs_are_seeded_and_hold_edge_values():
    check = SPEC.checks[0]

    first, again = make_inputs(check), make_inputs(check)

    assert torch.equal(first["arg0"], again["arg0"])
    edges = torch.tensor(EDGE_VALUES, dtype=torch.float32)
    assert torch.equal(first["arg0"].view(-1)[:7], edges)


def test_the_checks_reference_solution_never_goes_into_the_sandbox():
    spec = harness.parse(
        b'files = ["nn.py"]\nharness = "t.py"\nprivate = ["ref.py", "helper.py"]\n'
        b'[[tests]]\nname = "t"\npoints = 1\n'
        b'[[checks]]\nname = "c"\nkind = "function"\ntarget = "f"\nreference = "ref:f"\n'
        b"inputs = [[2]]\npoints = 1\n"
    )

    assert spec.sandbox_files == {"t.py", "helper.py"}


def test_an_outputs_file_of_a_million_tensors_is_refused_unread():
    from safetensors.torch import save

    many = save({f"t{i}": torch.zeros(0) for i in range(MAX_OUTPUT_TENSORS + 5)})

    assert load_outputs(many) is None
    assert load_outputs(b"\xff" * 16) is None
    assert load_outputs(save({"out": torch.ones(2)}))["out"].tolist() == [1.0, 1.0]


def test_a_student_cannot_import_the_checks_reference_solution():
    spec = harness.parse(
        b'files = ["nn.py"]\n'
        b'[[checks]]\nname = "double"\nkind = "function"\ntarget = "double"\n'
        b'reference = "ref:double"\ninputs = [[3]]\npoints = 1\n'
    )
    reference = b"def double(x):\n    return 2 * x\n"

    def grade_it(source: bytes):
        return grade_python(
            spec=spec,
            instructor_files={"autograder.toml": b"", "ref.py": reference},
            submitted={"nn.py": source},
            data_files={},
            limits=Limits(),
            test_timeout=30,
        )

    honest = grade_it(b"def double(x):\n    return x + x\n")
    copied = grade_it(b"from ref import double\n")

    assert honest.score == 1
    assert copied.score == 0 and "No module named 'ref'" in copied.tests[0].output


def test_a_python_submission_cannot_reach_a_checks_inputs_before_its_turn():
    # The module is imported when the first check runs: it finds that check's inputs, not the
    # others' (the training set of the digits check above all).
    peek = "import glob\n_SEEN = sorted(glob.glob('check-*-in*'))\n\n\n"
    cheat = with_mistake(
        "def fit_digits(x, y, epochs=150):",
        peek + "def fit_digits(x, y, epochs=150):\n    assert len(_SEEN) <= 1, _SEEN",
    )

    scores = {t.name: t.score for t in grade(cheat).tests}

    assert scores == POINTS
