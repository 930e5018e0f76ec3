"""A grading that fails before any of the student's code ran is an infrastructure fault, raised
as such (``autograder.failures``), never a Grade of 0: the evidence is the runner's signed stages.
The faults here are real: a sandbox the worker's own limits keep from starting, a kernel or test
process that cannot start, a virtualenv reached through a symlink (no database)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import failures, harness
from autograder.grader import grade_python
from autograder.notebook_pipeline import grade_notebook
from autograder.sandbox import Limits
from tests.autograder.nbfactory import meta, source_bytes, source_notebook, student_notebook

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
LIMITS = Limits(wall_seconds=120, cpu_seconds=60, memory_bytes=1536 * 2**20)
SPEC = b"""
files = ["relu.py"]
harness = "test_relu.py"

[[tests]]
name = "positive"
function = "test_positive"
points = 1
"""
HARNESS = b"from relu import relu\n\ndef test_positive():\n    assert relu(2.0) == 2.0\n"
RIGHT = b"def relu(x):\n    return max(0.0, x)\n"


def grade(submitted: bytes, *, limits: Limits = LIMITS, source: bytes | None = None):
    return grade_notebook(
        source=source or source_bytes(),
        submitted=submitted,
        data_files={},
        limits=limits,
        cell_timeout=30,
        filename="a1.ipynb",
    )


def grade_files(submitted: bytes, *, limits: Limits = LIMITS):
    return grade_python(
        spec=harness.parse(SPEC),
        instructor_files={"autograder.toml": SPEC, "test_relu.py": HARNESS},
        submitted={"relu.py": submitted},
        data_files={},
        limits=limits,
        test_timeout=60,
    )


def test_it_grades_through_a_virtualenv_reached_by_a_symlink(tmp_path):
    """bubblewrap binds the resolved virtualenv; a worker started as <link>/bin/python used to
    run the unresolved path there, setpriv failed, and every submission scored 0."""
    link = tmp_path / "venv-link"
    link.symlink_to(Path(sys.prefix).resolve())
    (tmp_path / "a1.ipynb").write_bytes(student_notebook())
    code = (
        "import json, sys\n"
        "from autograder.notebook_pipeline import grade_notebook\n"
        "from autograder.sandbox import Limits\n"
        "from tests.autograder.nbfactory import source_bytes\n"
        "grade = grade_notebook(source=source_bytes(), submitted=open(sys.argv[1], 'rb').read(),\n"
        "    data_files={}, limits=Limits(wall_seconds=120, memory_bytes=1536 * 2**20),\n"
        "    cell_timeout=30)\n"
        "print(json.dumps({t.name: None if t.score is None else float(t.score)\n"
        "                  for t in grade.tests}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env["DJANGO_SETTINGS_MODULE"] = "courseapp.config.test_settings"

    done = subprocess.run(
        [str(link / "bin" / "python"), "-c", code, str(tmp_path / "a1.ipynb")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {"test_relu": 2, "why_relu": None}


@pytest.fixture(params=["warm", "cold"])
def sandbox_start(request, monkeypatch):
    """Both ways a run starts: from the warm sandbox's zygote, and a cold bubblewrap sandbox."""
    monkeypatch.setenv("AUTOGRADER_WARM", "auto" if request.param == "warm" else "off")
    return request.param


def test_a_sandbox_that_cannot_start_the_runner_is_a_fault_not_a_zero(sandbox_start):
    # Too few open files: cold, bubblewrap or the interpreter cannot start the runner, which never
    # signs that it started; warm, the runner (loaded already) starts, then cannot open the
    # notebook's schema before any student cell: a fault either way, never a score.
    limits = Limits(wall_seconds=60, memory_bytes=1536 * 2**20, open_files=6)
    expected = failures.SandboxDidNotStart if sandbox_start == "cold" else failures.GradingFailure

    with pytest.raises(expected) as raised:
        grade(student_notebook(), limits=limits)
    assert isinstance(raised.value, failures.InfrastructureFault)


def test_a_kernel_that_cannot_start_is_a_fault_not_a_zero(sandbox_start):
    # One process only: the runner cannot fork the server its kernel comes from (it does so
    # before it takes its key, hence before it signs that it started); no student cell ran.
    limits = Limits(wall_seconds=60, memory_bytes=1536 * 2**20, processes=1)

    with pytest.raises(failures.SandboxDidNotStart, match="did not start the runner"):
        grade(student_notebook(), limits=limits)


def test_a_test_process_that_cannot_start_is_a_fault_not_a_zero(sandbox_start):
    limits = Limits(wall_seconds=60, memory_bytes=1536 * 2**20, processes=1)

    with pytest.raises(failures.SandboxDidNotStart):
        grade_files(RIGHT, limits=limits)


def test_a_kernel_dying_in_the_instructors_cell_before_the_students_is_a_fault():
    source = source_notebook()
    source.cells.insert(
        1, nbformat.v4.new_code_cell("import os\nos._exit(1)", metadata=meta("setup", locked=True))
    )
    source_bytes_ = nbformat.writes(source).encode()
    from autograder.notebooks import read, release_version

    released = release_version(read(source_bytes_))
    released.cells[2].source = "def relu(x):\n    return max(0, x)"

    with pytest.raises(failures.StoppedBeforeStudentCode, match="last stage: kernel"):
        grade(nbformat.writes(released).encode(), source=source_bytes_)


def test_the_same_kernel_death_in_the_students_cell_is_the_students_result():
    result = grade(student_notebook("    return max(0, x)\nimport os\nos._exit(1)"))

    assert {t.name: t.score for t in result.tests} == {"test_relu": 0, "why_relu": None}
    assert any("kernel died" in note for note in result.notes)


def test_a_right_answer_still_grades_with_the_evidence_checked():
    assert {t.name: t.score for t in grade(student_notebook()).tests}["test_relu"] == 2
    assert [t.score for t in grade_files(RIGHT).tests] == [1]
