"""Benchmark: grading the same small torch notebook with our pipeline and with `nbgrader autograde`;
and, with ``--phases``, where one grading of the shipped A1 spends its time and CPU.

Both run side by side on this machine, N times each, and the script prints the median seconds per
submission, both medians' ratio ("ours is N.N x faster") and the CPU seconds per submission. Ours
is the worker's path (``grade_notebook``: restore, run in the sandbox with nbclient, score) called
from a long-lived process, as the Celery worker does, after one untimed grading (a warm worker).
The baseline is what an nbgrader course does for one new submission: `nbgrader autograde ps1
--student sN` in a scratch course directory (one process per call, its own gradebook database).

``--phases`` grades A1 as shipped (courseapp/demo/assignments/a1, all its checks; the reference
solution) N times after one warm-up and prints, per step of ``NOTEBOOK_STEPS`` (wrapped here, in
the bench only), the median wall and CPU seconds; the runner's own timestamps when its status has
a ``phases`` dict; the sandbox's CPU and peak RSS; and the total CPU per A1 submission.

CPU is ``bench/processes.py``'s: this process, the children it reaped, and any long-lived
descendant (a helper that forks sandboxes) with the children it reaped, read from /proc.

    .venv/bin/python bench/autograde.py [--n 5]
    .venv/bin/python bench/autograde.py --phases [--n 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseapp.config.settings")

import django  # noqa: E402

django.setup()

import nbformat  # noqa: E402
from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402
from processes import CpuSpan, mib  # noqa: E402

from autograder import notebook_pipeline  # noqa: E402
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


@dataclass
class Timing:
    """Per submission: wall seconds and the CPU it cost (``processes.CpuSpan``)."""

    wall: list[float] = field(default_factory=list)
    cpu: list[CpuSpan] = field(default_factory=list)

    @contextlib.contextmanager
    def measure(self):
        """Add the wall and CPU seconds of the block."""
        span = CpuSpan().start()
        started = time.perf_counter()
        yield
        self.wall.append(time.perf_counter() - started)
        self.cpu.append(span.stop())

    @property
    def wall_median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(c.total for c in self.cpu)

    def cpu_note(self) -> str:
        """Where the CPU figure comes from, and what it leaves out."""
        helpers = max(c.helpers for c in self.cpu)
        from_proc = statistics.median(c.descendants for c in self.cpu)
        if not helpers and not from_proc:
            return "getrusage: this process + the children it reaped"
        return (
            f"getrusage of this process and its reaped children, plus {from_proc:.2f} s read from "
            f"/proc of {helpers} live descendant process(es) and the children they reaped"
        )


def time_ours(source: bytes, submitted: bytes, n: int) -> Timing:
    limits = Limits(wall_seconds=120, cpu_seconds=120, memory_bytes=3 * 2**30)
    timing = Timing()
    for _ in range(n):
        with timing.measure():
            grade = grade_notebook(
                source=source, submitted=submitted, data_files={}, limits=limits, cell_timeout=60
            )
        assert grade.score == 2, grade.tests
    return timing


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


def time_nbgrader(root: Path, submitted: bytes, n: int) -> Timing:
    timing = Timing()
    for number in range(n):
        student = f"s{number}"
        folder = root / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        (folder / "ps1.ipynb").write_bytes(submitted)
        with timing.measure():  # nbgrader is a child this process reaps: getrusage counts it
            nbgrader(root, "autograde", "ps1", "--student", student, "--create", "--force")
    return timing


def compare(n: int) -> None:
    source = nbformat.writes(source_notebook()).encode()
    submitted = student_submission()
    scratch = Path(tempfile.mkdtemp(prefix="bench-autograde-"))
    try:
        time_ours(source, submitted, 1)  # warm-up, untimed: a worker has graded before
        ours = time_ours(source, submitted, n)
        course = nbgrader_course(scratch / "course", source)
        theirs = time_nbgrader(course, submitted, n)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"our pipeline ({isolation_level()} sandbox, warm process), median of {n}:")
    print(f"  {ours.wall_median:.2f} s wall, {ours.cpu_median:.2f} s CPU per submission")
    print(f"  CPU: {ours.cpu_note()}")
    print(f"nbgrader autograde (one student per call), median of {n}:")
    print(f"  {theirs.wall_median:.2f} s wall, {theirs.cpu_median:.2f} s CPU per submission")
    print(f"ours is {theirs.wall_median / ours.wall_median:.1f} x faster (wall, medians)")
    print(f"ours uses {theirs.cpu_median / ours.cpu_median:.1f} x less CPU (medians)")


# --phases: the shipped A1, step by step


@dataclass
class StepTimes:
    """What the wrapped steps saw in one grading."""

    steps: dict[str, Timing] = field(default_factory=dict)
    sandbox: list = field(default_factory=list)  # the run's SandboxResult
    phases: list[dict] = field(default_factory=list)  # the runner's status["phases"], if any


def timed_steps(record: StepTimes) -> tuple:
    """``NOTEBOOK_STEPS``, each wrapped to add its wall and CPU to ``record``."""

    def wrap(step):
        def timed(grading):
            timing = record.steps.setdefault(step.__name__, Timing())
            with timing.measure():
                step(grading)
            if step is notebook_pipeline.run and grading.execution is not None:
                record.sandbox.append(grading.execution.sandbox)
                phases = grading.execution.status.get("phases")
                if isinstance(phases, dict):
                    record.phases.append(phases)

        return timed

    return tuple(wrap(step) for step in notebook_pipeline.NOTEBOOK_STEPS)


def phases(n: int) -> None:
    from tests.autograder.shipped import Shipped  # A1 graded as its tests grade it

    a1 = Shipped("a1")
    expected = sum(a1.full.values())
    original = notebook_pipeline.NOTEBOOK_STEPS
    record = StepTimes()
    total = Timing()
    notebook_pipeline.NOTEBOOK_STEPS = timed_steps(record)
    try:
        for number in range(n + 1):  # the first is the warm-up, left out below
            with total.measure():
                grade = a1.grade(a1.source)
            if grade.score != expected:
                raise SystemExit(f"A1 scored {grade.score}, not {expected}: {grade.tests}")
            if number == 0:
                for timing in (total, *record.steps.values()):
                    timing.wall.clear()
                    timing.cpu.clear()
                record.sandbox.clear()
                record.phases.clear()
    finally:
        notebook_pipeline.NOTEBOOK_STEPS = original
    print(f"A1 as shipped (reference solution, {expected} points), {isolation_level()} sandbox,")
    print(f"median of {n} gradings after one warm-up, in this long-lived process:")
    print(f"  {'step':<20} {'wall s':>8} {'CPU s':>8}")
    for name, timing in record.steps.items():
        print(f"  {name:<20} {timing.wall_median:8.3f} {timing.cpu_median:8.3f}")
    print(f"  {'total':<20} {total.wall_median:8.3f} {total.cpu_median:8.3f}")
    print(f"  CPU: {total.cpu_note()}")
    sandbox_cpu = statistics.median(s.cpu_seconds for s in record.sandbox)
    rss = statistics.median(s.max_rss_bytes for s in record.sandbox)
    print(f"the sandbox (run step): {sandbox_cpu:.3f} s CPU, peak RSS {mib(rss)} (SandboxResult)")
    if record.phases:
        print_runner_phases(record.phases)
    else:
        print("the runner reported no phases (its status has no 'phases' dict)")
    print(f"CPU per A1 submission once warm: {total.cpu_median:.2f} s (median of {n})")


def print_runner_phases(runs: list[dict]) -> None:
    """The runner's timestamps (seconds since it started), medians, in the order they came, with
    the time from each to the next; then the CPU seconds it reports (``*_cpu``: the runner's
    own, and the kernel's with all the fork server started)."""
    cpu = [name for name in runs[0] if name.endswith("_cpu")]
    names = sorted((n for n in runs[0] if n not in cpu), key=lambda name: runs[0][name])
    medians = {
        n: statistics.median(float(run.get(n, "nan")) for run in runs) for n in [*names, *cpu]
    }
    print(f"the runner's phases (seconds from its start, median of {len(runs)}):")
    for name, after in zip(names, [*names[1:], None], strict=True):
        step = "" if after is None else f"  then {medians[after] - medians[name]:.3f} s"
        print(f"  {name:<20} {medians[name]:8.3f}{step}")
    for name in cpu:
        print(f"  {name:<20} {medians[name]:8.3f} s of CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5, help="timed gradings of each (default 5)")
    parser.add_argument("--phases", action="store_true", help="A1, step by step, instead")
    args = parser.parse_args()
    if args.phases:
        phases(args.n)
    else:
        compare(args.n)


if __name__ == "__main__":
    main()
