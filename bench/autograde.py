"""Benchmark: grading the same small torch notebook with our pipeline and with `nbgrader autograde`.

Both run side by side in this process's machine, N times each, and the script prints the median
seconds per submission and the ratio. Ours is the worker's path (``grade_notebook``: restore, run
in the bubblewrap sandbox with nbclient, score) called from a long-lived process, as the Celery
worker does. The baseline is what an nbgrader course does for one new submission: `nbgrader
autograde ps1 --student sN` in a scratch course directory (one process per call, its own
gradebook database).

    .venv/bin/python bench/autograde.py [--n 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseapp.config.settings")

import django  # noqa: E402

django.setup()

import nbformat  # noqa: E402
from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402

from autograder.notebook_pipeline import grade_notebook  # noqa: E402
from autograder.notebooks import release_version  # noqa: E402
from autograder.sandbox import Limits, isolation_level  # noqa: E402

SOLUTION = (
    "def relu(x):\n    ### BEGIN SOLUTION\n    return torch.clamp(x, min=0)\n    ### END SOLUTION"
)
TESTS = (
    "x = torch.tensor([-1.0, 0.0, 2.0])\n"
    "assert torch.equal(relu(x), torch.tensor([0.0, 0.0, 2.0]))\n"
    "### BEGIN HIDDEN TESTS\n"
    "assert relu(torch.tensor([-3.0])).item() == 0\n"
    "### END HIDDEN TESTS"
)


def nbgrader_meta(grade_id: str, **flags) -> dict:
    return {
        "nbgrader": {
            "grade_id": grade_id,
            "schema_version": 3,
            "grade": False,
            "solution": False,
            "locked": False,
            **flags,
        }
    }


def source_notebook() -> nbformat.NotebookNode:
    notebook = new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [
        new_code_cell("import torch", metadata=nbgrader_meta("imports", locked=True)),
        new_code_cell(SOLUTION, metadata=nbgrader_meta("relu", solution=True)),
        new_code_cell(
            TESTS, metadata=nbgrader_meta("test_relu", grade=True, locked=True, points=2)
        ),
    ]
    return notebook


def student_submission() -> bytes:
    notebook = release_version(source_notebook())
    notebook.cells[1].source = "def relu(x):\n    return torch.clamp(x, min=0)"
    return nbformat.writes(notebook).encode()


def time_ours(source: bytes, submitted: bytes, n: int) -> list[float]:
    limits = Limits(wall_seconds=120, cpu_seconds=120, memory_bytes=3 * 2**30)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        grade = grade_notebook(
            source=source, submitted=submitted, data_files={}, limits=limits, cell_timeout=60
        )
        times.append(time.perf_counter() - started)
        assert grade.score == 2, grade.tests
    return times


def nbgrader_course(root: Path, source: bytes) -> Path:
    (root / "source" / "ps1").mkdir(parents=True)
    (root / "source" / "ps1" / "ps1.ipynb").write_bytes(source)
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'bench'\n"
    )
    nbgrader(root, "generate_assignment", "ps1", "--force")
    return root


def nbgrader(root: Path, *args: str) -> None:
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "nbgrader"), *args]
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}  # it runs alembic
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def time_nbgrader(root: Path, submitted: bytes, n: int) -> list[float]:
    times = []
    for number in range(n):
        student = f"s{number}"
        folder = root / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        (folder / "ps1.ipynb").write_bytes(submitted)
        started = time.perf_counter()
        nbgrader(root, "autograde", "ps1", "--student", student, "--create", "--force")
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5)
    args = parser.parse_args()
    source = nbformat.writes(source_notebook()).encode()
    submitted = student_submission()
    scratch = Path(tempfile.mkdtemp(prefix="bench-autograde-"))
    try:
        time_ours(source, submitted, 1)  # warm: imports nbgrader's helpers once, as a worker has
        ours = time_ours(source, submitted, args.n)
        course = nbgrader_course(scratch / "course", source)
        theirs = time_nbgrader(course, submitted, args.n)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    print(f"our pipeline ({isolation_level()} sandbox), median of {args.n}: {ours_median:.2f} s")
    print(f"nbgrader autograde (one student per call), median of {args.n}: {theirs_median:.2f} s")
    print(f"ratio nbgrader/ours: {theirs_median / ours_median:.2f}x")


if __name__ == "__main__":
    main()
