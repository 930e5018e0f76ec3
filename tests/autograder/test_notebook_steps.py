"""The notebook steps on their own: release, restore, score (no sandbox, no database)."""

from __future__ import annotations

import nbformat
import pytest

from autograder import cell_scores, notebooks
from tests.autograder.nbfactory import HIDDEN_TEST, VISIBLE_TEST, source_notebook, student_notebook


def test_the_release_hides_solutions_hidden_tests_and_mark_schemes():
    release = notebooks.release_version(source_notebook())

    text = "\n".join(cell.source for cell in release.cells)
    assert "max(0, x)" not in text and "YOUR CODE HERE" in text
    assert VISIBLE_TEST in text and HIDDEN_TEST not in text
    assert "no saturation" not in text
    assert all("checksum" in cell.metadata.nbgrader for cell in release.cells)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "not valid JSON"),
        (b'{"nbformat": 3, "cells": []}', "nbformat 3"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "cells": "x", "metadata": {}}', "not a valid"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_reading_refuses_what_is_not_a_notebook(data, message):
    with pytest.raises(notebooks.NotebookError, match=message):
        notebooks.read(data, name="a1.ipynb")


def restored(**changes) -> notebooks.Restored:
    submitted = notebooks.read(student_notebook(**changes))
    return notebooks.restore(submitted, source_notebook())


def test_restoring_puts_the_hidden_tests_back_and_keeps_the_answer():
    result = restored(relu_body="    return x if x > 0 else 0")

    sources = [cell.source for cell in result.notebook.cells]
    assert any(HIDDEN_TEST in s for s in sources)
    assert "def relu(x):\n    return x if x > 0 else 0" in sources
    assert result.notes == []


def test_an_edited_test_cell_is_restored_and_the_student_told():
    def cheat(notebook):
        notebook.cells[2].source = "pass  # no tests here"

    result = restored(edit=cheat)

    assert VISIBLE_TEST in result.notebook.cells[2].source
    assert result.notes == ["Cell test_relu is locked; your changes to it were undone."]


def test_a_test_cell_turned_into_markdown_is_restored():
    def hide(notebook):
        notebook.cells[2] = nbformat.v4.new_markdown_cell(
            notebook.cells[2].source, metadata=notebook.cells[2].metadata
        )

    result = restored(edit=hide)

    assert result.notebook.cells[2].cell_type == "code"


def test_a_deleted_test_cell_is_put_back_after_the_cell_before_it():
    result = restored(edit=lambda notebook: notebook.cells.pop(2))

    ids = [notebooks.grade_id(cell) for cell in result.notebook.cells]
    assert ids == ["intro", "relu", "test_relu", "why_relu"]
    assert "test_relu was missing" in result.notes[0]


def test_points_in_the_metadata_cannot_be_raised():
    def greedy(notebook):
        notebook.cells[3].metadata.nbgrader["points"] = 100

    result = restored(edit=greedy)

    assert result.notebook.cells[3].metadata.nbgrader["points"] == 1


def test_a_duplicated_grade_id_counts_once():
    def duplicate(notebook):
        notebook.cells.append(
            nbformat.v4.new_code_cell("x = 1", metadata=notebook.cells[2].metadata)
        )

    result = restored(edit=duplicate)

    assert [notebooks.grade_id(c) for c in result.notebook.cells].count("test_relu") == 1


EXPECTED = ["test_relu", "why_relu"]


def executed_with(test_outputs: list, *, execution_count=1) -> nbformat.NotebookNode:
    notebook = notebooks.restore(notebooks.read(student_notebook()), source_notebook()).notebook
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.execution_count = execution_count
    notebook.cells[2].outputs = test_outputs
    return notebook


def test_scoring_follows_nbgrader():
    error = nbformat.v4.new_output(
        "error",
        ename="AssertionError",
        evalue="relu(3) should be 3",
        traceback=["Traceback...", "assert relu(3) == 3"],
    )

    passed = cell_scores.score(executed_with([]), expected=EXPECTED)
    failed = cell_scores.score(executed_with([error]), expected=EXPECTED, hidden={"test_relu"})

    assert [(s.name, s.score, s.status) for s in passed] == [
        ("test_relu", 2, "passed"),
        ("why_relu", None, "manual"),
    ]
    assert (failed[0].score, failed[0].status) == (0, "failed")
    # The message is the hidden part's own: only the kind of error is shown.
    assert failed[0].output.strip() == (
        "AssertionError in a test with a hidden part (its message is not shown)."
    )


@pytest.mark.parametrize(
    ("ename", "evalue", "shown"),
    [
        # A message from the visible part of the cell reveals nothing: shown.
        ("AssertionError", "relu(-1) should be 0", "AssertionError: relu(-1) should be 0"),
        # The student's code can read the hidden part and raise it as a message...
        ("ValueError", "assert relu(3) == 3", "ValueError in a test with a hidden part"),
        # ... or as the name of an exception class of its own.
        ("assert_relu_3_eq_3", "", "An error in a test with a hidden part"),
    ],
)
def test_a_test_with_a_hidden_part_shows_nothing_the_student_could_not_see(ename, evalue, shown):
    error = nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=["..."])

    [scored, _] = cell_scores.score(executed_with([error]), expected=EXPECTED, hidden={"test_relu"})

    assert scored.output.startswith(shown) and "relu(3)" not in scored.output


def test_a_test_that_never_ran_scores_zero_not_full_marks():
    never = cell_scores.score(executed_with([], execution_count=None), expected=EXPECTED)
    unreached = cell_scores.score(executed_with([]), expected=EXPECTED, unreached={2})

    assert never[0].score == unreached[0].score == 0
    assert never[0].status == "not_run"


def test_an_error_reply_fails_the_test_even_without_a_traceback():
    scores = cell_scores.score(executed_with([]), expected=EXPECTED, errors={2})

    assert scores[0].score == 0


def test_cells_claiming_to_be_tests_count_only_if_the_instructor_made_them():
    def forge(notebook):
        for gid in ("", None, "test_relu_2", ["x"]):
            meta = {"grade": True, "points": 1000, "solution": False, "locked": True}
            if gid is not None:
                meta["grade_id"] = gid
            notebook.cells.append(nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": meta}))
        notebook.cells.append(nbformat.v4.new_code_cell("y = 2", metadata={"nbgrader": "x"}))

    result = restored(edit=forge)
    executed = result.notebook
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.execution_count = 1

    scores = cell_scores.score(executed, expected=notebooks.graded_ids(source_notebook()))

    assert [s.name for s in scores] == ["test_relu", "why_relu"]
    assert sum(s.max_score for s in scores) == 3


def test_a_test_result_above_its_points_gives_no_credit_instead_of_crashing():
    number = nbformat.v4.new_output("execute_result", data={"text/plain": "99"}, execution_count=1)

    scores = cell_scores.score(executed_with([number]), expected=EXPECTED)

    assert scores[0].score == 0


def test_deeply_nested_json_is_refused_clearly():
    with pytest.raises(notebooks.NotebookError, match="nested too deeply"):
        notebooks.read(b"[" * 100000 + b"]" * 100000)
