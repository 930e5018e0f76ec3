"""A memory limit is what the student's code may take on top of Python with torch loaded. A kernel
that cannot load torch within the run's limits (an assignment's limit set too low for a kernel)
is a fault of the machine, found before any student cell runs: never a 0 for everyone's correct
solution (no database)."""

from __future__ import annotations

import pytest

from autograder import failures
from autograder.notebook_pipeline import grade_notebook
from autograder.sandbox import Limits
from tests.autograder.nbfactory import source_bytes, student_notebook

pytestmark = pytest.mark.slow
WITH_TORCH = "    import torch\n    return float(torch.relu(torch.tensor(float(x))))"


def grade(memory_mb: int):
    return grade_notebook(
        source=source_bytes(),
        submitted=student_notebook(WITH_TORCH),
        data_files={},
        limits=Limits(wall_seconds=120, memory_bytes=memory_mb * 2**20),
        cell_timeout=60,
    )


def test_a_kernel_too_small_to_load_torch_is_a_fault_not_a_zero():
    pytest.importorskip("torch")

    # Cold, the kernel cannot import torch; warm (torch loaded already), the kernel cannot start.
    with pytest.raises(
        failures.StoppedBeforeStudentCode, match=r"could not import torch|Kernel died before"
    ):
        # 32 MB on top of what the run maps already: 200 MB let a warm kernel start in the full
        # suite's order (a CI run), though not alone.
        grade(memory_mb=32)


def test_the_same_solution_grades_with_room_for_torch():
    pytest.importorskip("torch")

    assert {t.name: t.score for t in grade(memory_mb=1536).tests}["test_relu"] == 2
