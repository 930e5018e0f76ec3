"""The reference-check fixture (``checks_fixture/``): a spec with one check of each kind and a
right solution, and grading a Python submission against it; the tests make wrong solutions from
the right one with one mistake each (``with_mistake``)."""

from __future__ import annotations

from pathlib import Path

from autograder import harness
from autograder.grader import grade_python
from autograder.sandbox import Limits

FIXTURE = Path(__file__).parent / "checks_fixture"
SPEC = harness.parse((FIXTURE / "autograder.toml").read_bytes())
RIGHT = (FIXTURE / "nn.py").read_text()
POINTS = {
    "ELU": 1,
    "BatchNorm": 2,
    "Adam": 2,
    "exponential schedule": 1,
    "inverted dropout": 1,
    "digits classifier": 2,
}


def grade(source: str):
    return grade_python(
        spec=SPEC,
        instructor_files={},
        submitted={"nn.py": source.encode()},
        data_files={},
        limits=Limits(wall_seconds=120, cpu_seconds=120),
        test_timeout=30,
    )


def with_mistake(old: str, new: str) -> str:
    assert old in RIGHT
    return RIGHT.replace(old, new)


ELU_LINE = "return torch.where(x > 0, x, alpha * (torch.exp(x) - 1))"
