"""In a Python-file assignment the harness is as far out of the student's reach as a notebook's
hidden tests: no file of it in the folder the student's code runs in, tracebacks that show only
the visible tests' lines, and no output holding the rest of its text (no database)."""

from __future__ import annotations

import pytest

from autograder import harness
from autograder.grader import SECRET_OUTPUT, grade_python
from autograder.grades import HIDDEN_OUTPUT
from autograder.sandbox import Limits

pytestmark = pytest.mark.slow
LIMITS = Limits(wall_seconds=120, cpu_seconds=60, memory_bytes=1536 * 2**20)
SPEC = b"""
files = ["relu.py"]
harness = "test_relu.py"
private = ["helpers.py"]

[[tests]]
name = "visible"
function = "test_visible"
points = 1

[[tests]]
name = "hidden"
function = "test_hidden"
points = 1
hidden = true
"""
HARNESS = b"""from relu import relu
from helpers import expected_for_large_inputs

def test_visible():
    value = relu(-1.0)
    assert value == 0.0, "relu(-1.0) should be 0.0"

def test_hidden():
    assert relu(1e6) == expected_for_large_inputs(), "SECRET: the grader checks one million"
"""
HELPERS = b"def expected_for_large_inputs():\n    return 1_000_000.0  # the reference's answer\n"
RELU = "def relu(x):\n    return max(0.0, x)\n"


def grade(student_code: str):
    return grade_python(
        spec=harness.parse(SPEC),
        instructor_files={"autograder.toml": SPEC, "test_relu.py": HARNESS, "helpers.py": HELPERS},
        submitted={"relu.py": student_code.encode()},
        data_files={},
        limits=LIMITS,
        test_timeout=60,
    )


def outputs(result) -> dict[str, str]:
    return {t.name: t.output for t in result.tests}


def test_the_harness_file_cannot_be_read_by_the_submission():
    # The attack of the issue: the harness source in a visible test's output.
    code = RELU + 'raise AssertionError(open("test_relu.py").read())\n'

    shown = outputs(grade(code))["visible"]

    assert "FileNotFoundError" in shown
    assert "SECRET" not in shown and "expected_for_large_inputs" not in shown


def test_no_file_of_the_harness_or_its_helpers_is_in_the_folder():
    code = RELU + "import os\nraise AssertionError(sorted(os.listdir('.')))\n"

    [listing] = [
        line
        for line in outputs(grade(code))["visible"].splitlines()
        if line.startswith("AssertionError")
    ]

    assert "relu.py" in listing  # the listing did reach the output
    for name in ("test_relu.py", "helpers.py", "pyrunner-hidden.json"):
        assert name not in listing


def test_hidden_text_dug_out_of_memory_is_not_shown():
    # The harness module is in the student's process, but not its hidden test (it runs apart).
    code = RELU.replace(
        "return max(0.0, x)",
        "import sys\n"
        "    harness = sys.modules.get('test_relu')\n"
        "    if harness is not None and x < 0:\n"
        "        raise AssertionError(repr(harness.test_hidden.__code__.co_consts))\n"
        "    return max(0.0, x)",
    )

    result = grade(code)

    assert "SECRET" not in outputs(result)["visible"]
    assert outputs(result)["hidden"] == HIDDEN_OUTPUT
    assert [t.score for t in result.tests] == [0, 1]


def test_a_visible_output_holding_text_of_the_harness_is_withheld():
    # What the visible tests run beside (module-level code, helpers) is readable; a plain copy
    # of it is still not shown.
    code = (
        "import sys\n"
        "frame, text = sys._getframe(), ''\n"
        "while frame is not None and not text:  # the harness's source, while it is imported\n"
        "    found = frame.f_locals.get('source')\n"
        "    text, frame = (found if isinstance(found, str) else ''), frame.f_back\n"
        "def relu(x):\n"
        "    raise AssertionError(text)\n"
    )

    result = grade(code)

    assert outputs(result)["visible"] == SECRET_OUTPUT
    assert "The output of 'visible' held text of the hidden tests" in result.log  # for staff


def test_a_visible_tests_traceback_still_shows_its_own_lines_only():
    code = "def relu(x):\n    raise ValueError('not done yet')\n"

    shown = outputs(grade(code))["visible"]

    assert "value = relu(-1.0)" in shown and "ValueError: not done yet" in shown
    assert "SECRET" not in shown


def test_the_hidden_tests_still_pass_and_fail_as_written():
    right = grade(RELU)
    wrong = grade("def relu(x):\n    return 0.0 if x < 0 else min(x, 10.0)\n")

    assert [t.score for t in right.tests] == [1, 1]
    assert [t.score for t in wrong.tests] == [1, 0]
