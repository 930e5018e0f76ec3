"""What a test prints is kept up to its share of the output limit, and a test that prints a lot
(its own output, or a long traceback) passes or fails on its assertions alone: the runner's
channel takes a report of any size the tester may send (no database)."""

from __future__ import annotations

import pytest

from autograder import harness
from autograder.grader import grade_python
from autograder.sandbox import Limits

pytestmark = pytest.mark.slow
SPEC = b'files = ["relu.py"]\nharness = "test_relu.py"\n[[tests]]\nname = "t"\npoints = 1\n'
RELU = b"def relu(x):\n    return max(0.0, x)\n"


def grade(printed: str):
    harness_source = f"from relu import relu\n\ndef t():\n    {printed}\n    assert relu(2) == 2\n"
    return grade_python(
        spec=harness.parse(SPEC),
        instructor_files={"autograder.toml": SPEC, "test_relu.py": harness_source.encode()},
        submitted={"relu.py": RELU},
        data_files={},
        test_timeout=60,
        limits=Limits(wall_seconds=120, memory_bytes=1536 * 2**20, output_bytes=2**20),
    )


@pytest.mark.parametrize(
    "printed", ["print('x' * 300_000)", "print('\\x01' * 300_000)"], ids=["text", "escaped"]
)
def test_a_test_printing_less_than_its_share_passes_with_all_its_output(printed):
    [test] = grade(printed).tests

    assert (test.status, test.score) == ("passed", 1)
    assert len(test.output) >= 300_000


def test_a_test_printing_more_than_its_share_passes_with_its_output_cut():
    [test] = grade("print('\\x01' * 3_000_000)").tests

    assert (test.status, test.score) == ("passed", 1)
    assert test.output.endswith("[output cut: more than 1024 KB]")
