"""What the runner honours on a cell (``autograder``: a check's name, its inputs and outputs
files, a longer time limit, the runner's setup cell) is the instructor's alone: a submission's
own cells lose whatever of it they carry, as they lose nbgrader metadata of their own making."""

from __future__ import annotations

import nbformat
import pytest

from autograder import notebooks
from autograder.notebook_pipeline import grade_notebook
from autograder.sandbox import Limits
from tests.autograder.nbfactory import meta, source_bytes, source_notebook, student_notebook

CLAIMS = [
    {"timeout": 3600},
    {"check": "test_relu", "inputs": "data.csv", "outputs": "data.csv"},
    {"setup": True},
]


@pytest.mark.parametrize("claim", CLAIMS, ids=["timeout", "check", "setup"])
def test_it_drops_runner_metadata_from_every_cell_the_student_wrote(claim):
    def claim_everywhere(notebook):
        notebook.cells.append(nbformat.v4.new_code_cell("print('mine')"))
        notebook.cells.append(nbformat.v4.new_markdown_cell("notes"))
        for cell in notebook.cells:
            cell.metadata["autograder"] = dict(claim)

    submitted = notebooks.read(student_notebook(edit=claim_everywhere))

    restored = notebooks.restore(submitted, source_notebook()).notebook

    assert [c.metadata.get("autograder") for c in restored.cells] == [None] * len(restored.cells)
    assert "print('mine')" in [c.source for c in restored.cells]  # the cells themselves stay


def test_it_keeps_the_instructors_runner_metadata_on_cells_restored_from_the_source():
    source = source_notebook()
    source.cells[2].metadata["autograder"] = {"timeout": 90}

    submitted = notebooks.read(student_notebook())
    restored = notebooks.restore(submitted, source).notebook

    assert restored.cells[2].metadata["autograder"] == {"timeout": 90}


@pytest.mark.slow
def test_a_student_cell_asking_for_more_time_is_stopped_at_the_cell_timeout():
    def ask_for_time(notebook):
        notebook.cells[1].metadata["autograder"] = {"timeout": 120}
        notebook.cells[1].metadata["nbgrader"] = meta("relu", solution=True)["nbgrader"]

    slow = "    return max(0, x)\nimport time\ntime.sleep(15)\nrelu = lambda x: -1"
    submitted = student_notebook(slow, edit=ask_for_time)

    result = grade_notebook(
        source=source_bytes(),
        submitted=submitted,
        data_files={},
        cell_timeout=5,
        limits=Limits(wall_seconds=120, cpu_seconds=60, memory_bytes=1536 * 2**20),
    )

    # Stopped at 5 s, before the wrong relu replaced the right one: the test passes.
    assert {t.name: t.score for t in result.tests}["test_relu"] == 2
