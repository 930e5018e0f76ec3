"""A worker whose scratch disk is full cannot write a run's results: that is the worker's fault,
told by the disk once the run's folder is gone (what the student's code wrote went with it),
never a 0. A student who fills the disk within the run's own allowance still gets their result
(no database; needs root to mount a small disk)."""

from __future__ import annotations

import subprocess
import tempfile

import pytest

from autograder import failures, harness
from autograder.grader import grade_python
from autograder.notebook_pipeline import grade_notebook
from autograder.sandbox import Limits
from tests.autograder.nbfactory import source_bytes, student_notebook

pytestmark = pytest.mark.slow
LIMITS = Limits(wall_seconds=120, cpu_seconds=60, memory_bytes=1536 * 2**20)
SPEC = b'files = ["relu.py"]\nharness = "test_relu.py"\n[[tests]]\nname = "t"\npoints = 1\n'
HARNESS = b"""from relu import relu

def t():
    print('x' * 300_000)
    assert relu(2.0) == 2.0
"""


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """A 32 MB disk for the scratch folders; ``fill(left)`` leaves ``left`` bytes free."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small disk here: {mounted.stderr.decode().strip()}")
    monkeypatch.setattr(tempfile, "tempdir", str(disk))

    def fill(left: int) -> None:
        with open(disk / "filler", "wb") as filler:
            filler.write(b"\0" * (32 * 2**20 - left))

    yield fill
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_notebook_whose_results_cannot_be_written_is_a_fault(small_disk):
    small_disk(left=128 * 1024)
    printing = student_notebook("    return max(0, x)\nprint('x' * 300_000)")

    with pytest.raises(failures.WorkerExhausted, match="scratch disk"):
        grade_notebook(
            source=source_bytes(),
            submitted=printing,
            data_files={},
            limits=LIMITS,
            cell_timeout=30,
        )


def test_python_tests_whose_results_cannot_be_written_are_a_fault(small_disk):
    small_disk(left=128 * 1024)

    with pytest.raises(failures.WorkerExhausted, match="scratch disk"):
        grade_python(
            spec=harness.parse(SPEC),
            instructor_files={"autograder.toml": SPEC, "test_relu.py": HARNESS},
            submitted={"relu.py": b"def relu(x):\n    return max(0.0, x)\n"},
            data_files={},
            limits=LIMITS,
            test_timeout=60,
        )


def test_a_student_filling_the_disk_gets_their_result(small_disk):
    limits = Limits(
        wall_seconds=120, cpu_seconds=60, memory_bytes=1536 * 2**20, disk_bytes=8 * 2**20
    )
    fill_it = (
        "    return max(0, x)\n"
        "with open('big', 'wb') as big:\n"
        "    while True:\n"
        "        big.write(b'\\0' * 2**20)\n"
    )

    result = grade_notebook(
        source=source_bytes(),
        submitted=student_notebook(fill_it),
        data_files={},
        limits=limits,
        cell_timeout=30,
    )

    assert {t.name: t.score for t in result.tests}["test_relu"] == 0
