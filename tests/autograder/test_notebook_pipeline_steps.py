"""Each step of the notebook pipeline (``notebook_pipeline.NOTEBOOK_STEPS``) on its own fixture
notebook: no sandbox, no database; the run's result is made up where a step needs one."""

from __future__ import annotations

import copy
from decimal import Decimal

import nbformat
from nbformat.v4 import new_code_cell

from autograder import notebook_pipeline, notebooks
from autograder.execution import Execution
from autograder.notebook_pipeline import NOTEBOOK_STEPS, NotebookGrading
from autograder.sandbox import Limits, SandboxResult
from tests.autograder.nbfactory import meta, source_notebook, student_notebook

CHECK_CELL = """# [[checks]]
## relu against torch.relu
# kind = "function"
# target = "relu"
# reference = "torch.relu"
# inputs = [[3, 4]]
"""


def grading(submitted: bytes | None = None, source=None) -> NotebookGrading:
    return NotebookGrading(
        source=source if source is not None else source_notebook(),
        submitted=student_notebook() if submitted is None else submitted,
        data_files={},
        limits=Limits(wall_seconds=60, cpu_seconds=60),
        cell_timeout=10,
        filename="a1.ipynb",
    )


def run_steps(state: NotebookGrading, *steps) -> NotebookGrading:
    for step in steps:
        step(state)
    return state


def sandbox(stopped_because: str = "exited") -> SandboxResult:
    return SandboxResult(
        exit_code=0,
        signal=None,
        stdout="",
        stderr="",
        stdout_truncated=False,
        stderr_truncated=False,
        wall_seconds=1.0,
        cpu_seconds=1.0,
        max_rss_bytes=0,
        stopped_because=stopped_because,
        isolation="rlimits",
    )


def ran(state: NotebookGrading, *, status: dict | None = None, executed=True) -> Execution:
    """The notebook to run, as if every cell ran and printed nothing."""
    notebook = None
    if executed:
        notebook = copy.deepcopy(state.notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.execution_count = 1
    finished = {"state": "finished", "errors": [], "tampered": []}
    return Execution(notebook, {**finished, **(status or {})}, sandbox())


def test_it_runs_the_steps_in_nbgraders_order():
    assert [step.__name__ for step in NOTEBOOK_STEPS] == [
        "read_submission",
        "restore",
        "prepare_checks",
        "place_checks",
        "run",
        "note_how_it_ended",
        "score_cells",
        "score_checks",
        "leave_as_it_ran",
    ]


def test_it_scores_every_grade_cell_zero_when_the_submission_is_not_a_notebook():
    state = run_steps(grading(b"not json"), notebook_pipeline.read_submission)

    assert state.done
    assert [(t.name, t.score, t.max_score, t.status) for t in state.tests] == [
        ("test_relu", Decimal(0), Decimal(2), "failed"),
        ("why_relu", None, Decimal(1), "manual"),
    ]
    assert state.notes == [state.tests[0].output] and "not valid JSON" in state.notes[0]


def test_it_restores_the_instructors_cells_and_tells_the_student():
    def cheat(notebook):
        notebook.cells[2].source = "pass"

    state = run_steps(
        grading(student_notebook(edit=cheat)),
        notebook_pipeline.read_submission,
        notebook_pipeline.restore,
    )

    assert "BEGIN HIDDEN TESTS" in state.restored.notebook.cells[2].source
    assert state.notes == ["Cell test_relu is locked; your changes to it were undone."]


def test_it_runs_the_students_cells_as_theirs_and_the_instructors_as_not():
    state = run_steps(grading(student_notebook(extra_cells=["x = 1"])), *NOTEBOOK_STEPS[:4])

    assert state.prepared.to_run == [] and state.placed == {}
    assert len(state.notebook.cells) == state.first_check == 5
    assert state.student_cells == {1, 4}  # relu's answer and the extra cell, not test_relu


def test_it_puts_a_grade_cells_check_in_that_cells_place():
    source = source_notebook()
    check_meta = meta("relu_matches_torch", grade=True, locked=True, points=2)
    source.cells.insert(2, new_code_cell(CHECK_CELL, metadata=check_meta))
    release = notebooks.release_version(source)
    release.cells[1].source = "def relu(x):\n    return x.clamp(min=0)"
    submitted = notebooks.dumps(release)

    state = run_steps(grading(submitted, source), *NOTEBOOK_STEPS[:4])

    assert [c.name for c in state.in_cells] == ["relu_matches_torch"]
    assert list(state.placed) == [2] and state.placed[2].source == CHECK_CELL
    placed = state.notebook.cells[2]
    assert placed.source != CHECK_CELL
    assert placed.metadata[notebooks.RUNNER_METADATA]["check"] == "relu_matches_torch"
    assert 2 not in state.student_cells


def test_a_run_that_left_no_notebook_scores_zero_with_the_reason():
    state = run_steps(grading(), *NOTEBOOK_STEPS[:4])
    state.execution = ran(state, executed=False)

    notebook_pipeline.note_how_it_ended(state)

    assert state.done
    assert state.notes == ["The notebook could not be run."]
    assert {t.output for t in state.tests if t.status == "failed"} == {state.notes[0]}


def test_a_run_that_changed_the_kernel_is_told_and_its_tests_fail():
    state = run_steps(grading(), *NOTEBOOK_STEPS[:4])
    state.execution = ran(state, status={"tampered": [2]})

    run_steps(state, notebook_pipeline.note_how_it_ended, notebook_pipeline.score_cells)

    assert state.tampered == {2} and "changed how the kernel runs code" in state.notes[-1]
    assert [(t.name, t.score, t.status) for t in state.tests] == [
        ("test_relu", Decimal(0), "failed"),
        ("why_relu", None, "manual"),
    ]


def test_it_scores_the_grade_cells_as_nbgrader_does():
    state = run_steps(grading(), *NOTEBOOK_STEPS[:4])
    state.execution = ran(state)

    run_steps(state, *NOTEBOOK_STEPS[5:])

    assert [(t.name, t.score, t.max_score, t.status) for t in state.tests] == [
        ("test_relu", Decimal(2), Decimal(2), "passed"),
        ("why_relu", None, Decimal(1), "manual"),
    ]
    grade = state.grade(started=0.0)
    assert grade.score == 2 and grade.isolation == "rlimits"
    assert len(nbformat.reads(grade.executed, 4).cells) == 4


def test_it_leaves_the_notebook_as_it_ran_without_the_check_cells():
    state = run_steps(grading(), *NOTEBOOK_STEPS[:4])
    state.execution = ran(state)
    state.execution.executed.cells.append(new_code_cell("check()"))

    notebook_pipeline.leave_as_it_ran(state)

    assert len(state.execution.executed.cells) == state.first_check
