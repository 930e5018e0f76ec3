"""A check's inputs cannot be worked out ahead of the check: they are made from the author's seed
mixed with the site's secret and the submission's own files. The way inputs are made is public
(this project is open source), so with the author's seed alone a student could run a forbidden
function on them at home and hand in a table of its answers."""

from __future__ import annotations

import torch

from autograder import harness
from autograder.checks.inputs import make_inputs
from autograder.checks.scoring import PreparedChecks
from autograder.grader import grade_python
from autograder.sandbox import Limits

SPEC = harness.parse(b"""files = ["act.py"]
test_timeout = 20

[[checks]]
name = "ELU"
kind = "function"
target = "elu"
reference = "torch.nn.functional.elu"
inputs = [[4, 5]]
forbid = ["torch.nn.functional.elu"]
points = 1
""")
[CHECK] = SPEC.checks


def _table_of_answers() -> str:
    """The student's file: ELU's outputs on the inputs the author's seed makes, made at home
    with the forbidden function, and looked up at the check."""
    inputs = make_inputs(CHECK)
    [x] = [value for value in inputs.values() if isinstance(value, torch.Tensor)]
    answer = torch.nn.functional.elu(x)
    return (
        "import torch\n\n"
        f"KNOWN = torch.tensor({x.tolist()!r}, dtype=torch.{CHECK.dtype})\n"
        f"ANSWER = torch.tensor({answer.tolist()!r}, dtype=torch.{CHECK.dtype})\n\n\n"
        "def elu(x, alpha=1.0):\n"
        "    return ANSWER.clone() if torch.equal(x, KNOWN) else torch.zeros_like(x)\n"
    )


def test_it_does_not_grade_with_the_inputs_the_authors_seed_makes():
    source = _table_of_answers()

    grade = grade_python(
        spec=SPEC,
        instructor_files={},
        submitted={"act.py": source.encode()},
        data_files={},
        limits=Limits(wall_seconds=120, cpu_seconds=120),
        test_timeout=30,
    )

    [result] = grade.tests
    assert result.status == "failed" and result.score == 0, result


def test_it_makes_the_same_inputs_for_the_same_files_and_others_for_other_files():
    first = {"act.py": b"def elu(x, alpha=1.0):\n    return x\n"}
    other = {"act.py": b"def elu(x, alpha=1.0):\n    return x * 1\n"}

    def made(students):
        prepared = PreparedChecks.prepare(SPEC.checks, students, {}, {})
        [inputs] = prepared.inputs.values()
        return next(v for v in inputs.values() if isinstance(v, torch.Tensor))

    assert torch.equal(made(first), made(first))
    assert not torch.equal(made(first), made(other))
    authors = next(v for v in make_inputs(CHECK).values() if isinstance(v, torch.Tensor))
    assert not torch.equal(made(first), authors)
