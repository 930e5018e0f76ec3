"""A new check kind is one class and one line in the registry: a toy kind registered from here is
read from a spec, gets its inputs, runs through an existing probe (in the sandbox, and on the
reference in the worker) and is scored by its own verdict, with nothing else told about it.

The toy kind, "sign", asks only that the student's function gives each value the reference's
sign (where the reference's value is within ``band`` of zero, any sign will do): a comparison of
its own, on a field of its own (``band``: its default in ``Kind.fields``, its value in
``Check.options``). A real kind would be a module in ``autograder/checks/kinds/`` and a line in
``autograder/checks/registry.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from safetensors.torch import save

from autograder import harness
from autograder.checks import registry
from autograder.checks.inputs import make_inputs
from autograder.checks.kinds.base import Kind, Seeded
from autograder.checks.parsing import parse
from autograder.checks.scoring import check_result
from autograder.checks.spec import Check, CheckError
from autograder.grader import grade_python
from autograder.sandbox import Limits


class Sign(Kind):
    name = "sign"
    probe = "function"  # it runs the student's function as a function check does
    fields = {"band": 0.0}

    def parse(self, values: dict, name: str) -> None:
        band = values["options"]["band"]
        if not isinstance(band, int | float) or band < 0:
            raise CheckError(f"check {name!r}: band must be a number, 0 or more.")

    def make_inputs(
        self, check: Check, seeded: Seeded, *, private: dict | None, data: dict | None
    ) -> dict:
        return {f"arg{i}": seeded.randn(shape) for i, shape in enumerate(check.inputs)}

    def problem(
        self, check: Check, inputs: dict, actual: dict, expected: Callable[[], dict]
    ) -> str:
        band = check.options["band"]
        want, got = expected()["out"].double(), actual.get("out")
        if got is None or tuple(got.shape) != tuple(want.shape):
            return "It should return one value per input value."
        judged = want.abs() > band
        wrong = int((torch.sign(got.double()) != torch.sign(want))[judged].sum())
        return f"{wrong} of {int(judged.sum())} values have the wrong sign." if wrong else ""


@pytest.fixture
def sign_kind(monkeypatch):
    monkeypatch.setitem(registry.KINDS, Sign.name, Sign())


ENTRY = {
    "name": "signs",
    "kind": "sign",
    "target": "f",
    "reference": "torch.tanh",
    "inputs": [[6]],
    "band": 0.5,
    "points": 2,
}


def test_it_is_read_from_a_spec_with_its_own_fields(sign_kind):
    [check] = parse([ENTRY], default_module="nn")

    assert (check.kind, check.target, check.options) == ("sign", "nn:f", {"band": 0.5})
    with pytest.raises(CheckError, match="band must be a number"):
        parse([{**ENTRY, "band": -1}], default_module="nn")


def test_without_its_registry_line_the_kind_and_its_fields_are_refused():
    with pytest.raises(CheckError, match="unknown keys \\['band'\\]"):
        parse([ENTRY], default_module="nn")
    with pytest.raises(CheckError, match="kind must be one of"):
        parse([{k: v for k, v in ENTRY.items() if k != "band"}], default_module="nn")


def _graded(check: Check, out) -> tuple:
    inputs = make_inputs(check)
    files = {check.files()[1]: save({"out": out(inputs["arg0"]).contiguous()})}
    staff: list[str] = []
    result = check_result(check, {"status": "passed"}, inputs, files, "cpu", {}, staff)
    return result.score, result.status, result.output


def test_it_is_scored_by_its_own_verdict(sign_kind):
    [check] = parse([ENTRY], default_module="nn")

    assert _graded(check, lambda x: 3 * x) == (2, "passed", "")  # tanh's signs, not its values
    score, status, output = _graded(check, lambda x: -x)
    assert (score, status) == (0, "failed")
    assert "values have the wrong sign" in output and f"(seed {check.seed})" in output


SPEC = b"""files = ["nn.py"]

[[checks]]
name = "signs"
kind = "sign"
target = "f"
reference = "torch.tanh"
inputs = [[64]]
band = 0.01
points = 2
"""


@pytest.mark.parametrize(
    ("body", "score"), [("return torch.sinh(x)", 2), ("return torch.cos(x)", 0)]
)
def test_it_grades_a_submission_end_to_end_in_the_sandbox(sign_kind, body, score):
    result = grade_python(
        spec=harness.parse(SPEC),
        instructor_files={},
        submitted={"nn.py": f"import torch\n\n\ndef f(x):\n    {body}\n".encode()},
        data_files={},
        limits=Limits(wall_seconds=120, cpu_seconds=120),
        test_timeout=30,
    )

    [test] = result.tests
    assert (test.name, test.score, test.max_score) == ("signs", score, 2), test.output
