"""Code being graded sees ``NBGRADER_EXECUTION=autograde``, as under ``nbgrader autograde``
(nbgrader's FAQ): notebooks use it to skip slow work or to guard their tests (no database)."""

from __future__ import annotations

import pytest

from autograder import harness
from autograder.grader import grade_python
from autograder.notebook_pipeline import grade_notebook
from autograder.sandbox import Limits
from tests.autograder.nbfactory import source_bytes, student_notebook

pytestmark = pytest.mark.slow
LIMITS = Limits(wall_seconds=120, cpu_seconds=60, memory_bytes=1536 * 2**20)
# Trains for an hour when a person runs it, skips that when nbgrader grades it, and only then
# has its answer (here a cell timeout would stop it first).
GUARDED = (
    "    return x\n"
    "import os, time\n"
    "if os.environ.get('NBGRADER_EXECUTION') != 'autograde':\n"
    "    time.sleep(3600)\n"
    "def relu(x):\n"
    "    return max(0, x)"
)


def test_a_notebook_that_skips_slow_work_under_nbgrader_skips_it_here():
    result = grade_notebook(
        source=source_bytes(),
        submitted=student_notebook(GUARDED),
        data_files={},
        limits=LIMITS,
        cell_timeout=20,
        filename="a1.ipynb",
    )

    assert {t.name: t.score for t in result.tests} == {"test_relu": 2, "why_relu": None}


def test_python_files_see_it_too():
    spec = b'files = ["relu.py"]\nharness = "t.py"\n[[tests]]\nname = "t"\npoints = 1\n'
    test = b"import os\ndef t():\n    assert os.environ.get('NBGRADER_EXECUTION') == 'autograde'\n"

    result = grade_python(
        spec=harness.parse(spec),
        instructor_files={"autograder.toml": spec, "t.py": test},
        submitted={"relu.py": b"x = 1\n"},
        data_files={},
        limits=LIMITS,
        test_timeout=30,
    )

    assert [(t.score, t.output) for t in result.tests] == [(1, "")]
