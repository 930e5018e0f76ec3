"""Small nbgrader-format notebooks, built in code: a source with solutions and hidden tests, and
students' versions of it."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

RELU_SOLUTION = "def relu(x):\n    ### BEGIN SOLUTION\n    return max(0, x)\n    ### END SOLUTION"
VISIBLE_TEST = 'assert relu(-1) == 0, "relu(-1) should be 0"'
HIDDEN_TEST = 'assert relu(3) == 3, "relu(3) should be 3"'


def meta(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    data = {
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    if points is not None:
        data["points"] = points
    return {"nbgrader": data}


def source_notebook() -> nbformat.NotebookNode:
    """relu (solution), its tests (2 points, with a hidden part), an answer in words (1 point)."""
    notebook = new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [
        new_markdown_cell("# A1: ReLU", metadata=meta("intro", locked=True)),
        new_code_cell(RELU_SOLUTION, metadata=meta("relu", solution=True)),
        new_code_cell(
            f"{VISIBLE_TEST}\n### BEGIN HIDDEN TESTS\n{HIDDEN_TEST}\n### END HIDDEN TESTS",
            metadata=meta("test_relu", grade=True, locked=True, points=2),
        ),
        new_markdown_cell(
            "Why is ReLU popular?\n\n=== BEGIN MARK SCHEME ===\n"
            "no saturation\n=== END MARK SCHEME ===",
            metadata=meta("why_relu", grade=True, solution=True, points=1),
        ),
    ]
    return notebook


def source_bytes() -> bytes:
    return nbformat.writes(source_notebook()).encode()


def student_notebook(
    relu_body: str = "    return max(0, x)", *, extra_cells=(), edit=None
) -> bytes:
    """The student version with ``relu_body`` as the answer; ``edit(notebook)`` changes it more."""
    from autograder.notebooks import release_version

    notebook = release_version(source_notebook())
    notebook.cells[1].source = f"def relu(x):\n{relu_body}"
    notebook.cells[3].source = "It does not saturate for positive inputs."
    notebook.cells.extend(new_code_cell(source) for source in extra_cells)
    if edit is not None:
        edit(notebook)
    return nbformat.writes(notebook).encode()
