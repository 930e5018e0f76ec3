"""A submission cannot pass its own sabotage off as an infrastructure fault (to get a retry, or
no score, instead of its 0): once the runner has signed that the student's code is about to run,
whatever that code does is the student's result (no database)."""

from __future__ import annotations

import pytest

from autograder import harness
from autograder.grader import grade_python
from autograder.notebook_pipeline import grade_notebook
from autograder.sandbox import Limits, isolation_level
from tests.autograder.nbfactory import source_bytes, student_notebook

pytestmark = pytest.mark.slow
LIMITS = Limits(wall_seconds=120, cpu_seconds=60, memory_bytes=1536 * 2**20)

# Each runs first thing in the student's first cell (the relu solution).
KILL_EVERYTHING = "import os, signal\nos.kill(-1, signal.SIGKILL)"
EXIT_AT_ONCE = "import os\nos._exit(3)"
# Steal the runner's report channel through /proc (the runner is not dumpable: refused), drop
# everything in the folder, then kill every process of the sandbox's uid.
STEAL_AND_WIPE = (
    "import glob, os, shutil, signal\n"
    "for path in glob.glob('/proc/[0-9]*/fd/*'):\n"
    "    try:\n"
    "        os.read(os.open(path, os.O_RDONLY | os.O_NONBLOCK), 65536)\n"
    "    except OSError:\n"
    "        pass\n"
    "for name in os.listdir('.'):\n"
    "    shutil.rmtree(name, ignore_errors=True) if os.path.isdir(name) else os.remove(name)\n"
    "os.kill(-1, signal.SIGKILL)"
)
EXHAUST_MEMORY = "hog = []\nwhile True:\n    hog.append(bytearray(2**26))"
FORK_BOMB = (
    "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        os._exit(0)"
)


def grade(first_lines: str):
    solution = "    return max(0, x)\n" + first_lines
    return grade_notebook(
        source=source_bytes(),
        submitted=student_notebook(solution),
        data_files={},
        limits=LIMITS,
        cell_timeout=30,
        filename="a1.ipynb",
    )


@pytest.mark.parametrize(
    ("sabotage", "points"),
    [
        (KILL_EVERYTHING, 0),
        (EXIT_AT_ONCE, 0),
        (STEAL_AND_WIPE, 0),
        (FORK_BOMB, 0),
        (EXHAUST_MEMORY, 2),
    ],  # a MemoryError in the cell; relu was defined before it
    ids=["kill everything", "os._exit", "steal the report and wipe", "fork bomb", "memory"],
)
def test_sabotage_in_the_first_student_cell_is_the_students_result(sabotage, points):
    if isolation_level() != "bubblewrap":
        pytest.skip("hostile submissions only run under bubblewrap")

    result = grade(sabotage)  # a Grade, not an InfrastructureFault

    assert {t.name: t.score for t in result.tests} == {"test_relu": points, "why_relu": None}


SPEC = b"""
files = ["relu.py"]
harness = "test_relu.py"

[[tests]]
name = "positive"
function = "test_positive"
points = 1
"""
HARNESS = b"from relu import relu\n\ndef test_positive():\n    assert relu(2.0) == 2.0\n"


@pytest.mark.parametrize("sabotage", [KILL_EVERYTHING, STEAL_AND_WIPE, EXIT_AT_ONCE])
def test_sabotage_when_a_python_file_is_imported_is_the_students_result(sabotage):
    if isolation_level() != "bubblewrap":
        pytest.skip("hostile submissions only run under bubblewrap")
    submitted = f"{sabotage}\ndef relu(x):\n    return max(0.0, x)\n".encode()

    result = grade_python(
        spec=harness.parse(SPEC),
        instructor_files={"autograder.toml": SPEC, "test_relu.py": HARNESS},
        submitted={"relu.py": submitted},
        data_files={},
        limits=LIMITS,
        test_timeout=30,
    )

    assert [(t.name, t.score) for t in result.tests] == [("positive", 0)]


def test_a_cell_claiming_to_be_the_graders_setup_does_not_hide_the_students_code():
    def claim_setup(notebook):
        notebook.cells[1].metadata["autograder"] = {"setup": True}

    submitted = student_notebook("    return max(0, x)\n" + KILL_EVERYTHING, edit=claim_setup)

    result = grade_notebook(
        source=source_bytes(),
        submitted=submitted,
        data_files={},
        limits=LIMITS,
        cell_timeout=30,
        filename="a1.ipynb",
    )

    assert {t.name: t.score for t in result.tests} == {"test_relu": 0, "why_relu": None}
