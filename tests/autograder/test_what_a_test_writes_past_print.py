"""What a test of a Python-file assignment writes without ``print`` is its output too: to file
descriptor 1 itself, or through a process it starts. ``sys.stdout`` is captured per test; the
rest went to the runner's standard output, which no grade reads, and was lost without a word
(no database)."""

from __future__ import annotations

import pytest

from autograder import harness
from autograder.grader import grade_python
from autograder.sandbox import Limits

pytestmark = pytest.mark.slow
SPEC = b'files = ["relu.py"]\nharness = "test_relu.py"\n[[tests]]\nname = "t"\npoints = 1\n'
RELU = b"def relu(x):\n    return max(0.0, x)\n"
WRITES = """import os, subprocess, sys
from relu import relu

def t():
    print("by print")
    os.write(1, b"by the descriptor\\n")
    subprocess.run([sys.executable, "-c", "print('by a child')"], check=True)
    LAST
    assert relu(2) == 2
"""


def grade_harness(spec: bytes, source: str):
    """A correct ``relu.py`` graded with ``source`` as its harness ``test_relu.py``."""
    return grade_python(
        spec=harness.parse(spec),
        instructor_files={"autograder.toml": spec, "test_relu.py": source.encode()},
        submitted={"relu.py": RELU},
        data_files={},
        test_timeout=60,
        limits=Limits(wall_seconds=120, memory_bytes=1536 * 2**20, output_bytes=2**20),
    )


def grade(last: str):
    return grade_harness(SPEC, WRITES.replace("LAST", last))


def test_it_keeps_what_the_test_and_its_child_wrote_to_the_descriptor():
    [test] = grade("print('the last line')").tests

    assert (test.status, test.score) == ("passed", 1)
    lines = test.output.splitlines()
    assert sorted(lines) == sorted(["by print", "by the descriptor", "by a child", "the last line"])


def test_its_output_at_the_descriptor_is_held_to_the_tests_share():
    [test] = grade("os.write(1, b'x' * 1_100_000)").tests

    assert (test.status, test.score) == ("passed", 1)
    assert "by the descriptor" in test.output and "by a child" in test.output
    assert test.output.endswith("[output cut: more than 1024 KB]")
