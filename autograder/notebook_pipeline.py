"""Grading one notebook submission, as plain data, the way nbgrader's ``autograde`` does it: a
short list of named steps (``NOTEBOOK_STEPS``: read, restore, prepare and place the checks, run in
the sandbox, note how the run ended, score the grade cells, score the checks, leave the notebook as
it ran), each a small function of one shared ``NotebookGrading`` that a test can run on its own
fixture notebook.

No database here: the Celery task, ``manage.py autograde`` and the tests all call ``grade_notebook``
with bytes and get a ``Grade`` back, so every path grades the same way.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

from nbformat import NotebookNode

from autograder import cell_scores, cell_text, notebooks
from autograder.checks.cells import (
    cell_checks,
    cell_lines,
    check_cell,
    check_cell_meta,
    notebook_aliases,
    student_code,
)
from autograder.checks.exchange import public_datasets
from autograder.checks.scoring import CHANGED_OUTPUTS, PreparedChecks, changed_outputs, checks_zero
from autograder.checks.spec import Check
from autograder.execution import Execution, run_notebook
from autograder.grades import Grade, TestResult
from autograder.run_notes import nothing_scored, stopped_note, unhidden
from autograder.sandbox import Limits, isolation_level


def grade_notebook(
    *,
    source: bytes,
    submitted: bytes,
    data_files: dict[str, bytes],
    limits: Limits,
    cell_timeout: int,
    filename: str = "the notebook",
    reference_checks: tuple[Check, ...] = (),
    private: dict[str, bytes] | None = None,
    check_key: bytes | None = None,
) -> Grade:
    """``reference_checks`` (``autograder.checks``) run after the student's cells, in the same
    kernel, on the notebook's variables, and checks declared in the source's grade cells
    (``checks.cells.cell_checks``) run in their place; ``private``: the instructor's files they may
    use. The work is ``NOTEBOOK_STEPS``, in order, on one ``NotebookGrading``."""
    started = time.monotonic()
    grading = NotebookGrading(
        source=notebooks.read(source, name="the assignment's source notebook"),
        submitted=submitted,
        filename=filename,
        data_files=data_files,
        limits=limits,
        cell_timeout=cell_timeout,
        reference_checks=reference_checks,
        private=private or {},
        check_key=check_key,
    )
    for step in NOTEBOOK_STEPS:
        step(grading)
        if grading.done:
            break
    return grading.grade(started)


@dataclass
class NotebookGrading:
    """What the notebook steps share: the grading's inputs, then what each step leaves for the
    ones after it. A step that leaves nothing to do after it sets ``done``."""

    source: NotebookNode
    submitted: bytes
    data_files: dict[str, bytes]
    limits: Limits
    cell_timeout: int
    filename: str = "the notebook"
    reference_checks: tuple[Check, ...] = ()
    private: dict[str, bytes] = field(default_factory=dict)
    check_key: bytes | None = None  # the assignment's (``PreparedChecks.prepare``)
    submitted_notebook: NotebookNode | None = None  # ``read_submission``
    restored: notebooks.Restored | None = None  # ``restore``
    in_cells: tuple[Check, ...] = ()  # ``prepare_checks``: the checks of grade cells
    prepared: PreparedChecks | None = None  # ``prepare_checks``
    notebook: NotebookNode | None = None  # ``place_checks``: the notebook to run
    placed: dict[int, NotebookNode] = field(default_factory=dict)  # grade cells checks took
    first_check: int = 0  # where the check cells appended after the student's cells begin
    student_cells: set[int] = field(default_factory=set)
    replaced: dict = field(default_factory=dict)  # held-out data shown in place of the public
    execution: Execution | None = None  # ``run``
    stopped: str | None = None  # why the run stopped early, for the student
    tampered: set[int] = field(default_factory=set)  # cells after the kernel was changed
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    log: str = ""
    device: str = "cpu"
    done: bool = False

    @property
    def in_cell_names(self) -> set[str]:
        return {c.name for c in self.in_cells}

    def grade(self, started: float) -> Grade:
        if self.execution is None:  # never run: the submission was not a notebook
            return Grade(tests=self.tests, notes=self.notes, isolation=isolation_level())
        executed = self.execution.executed
        return Grade.of_run(
            tests=self.tests,
            notes=self.notes,
            log=self.log,
            sandbox=self.execution.sandbox,
            started=started,
            executed=b"" if executed is None else notebooks.dumps(executed),
            device=self.device,
        )

    def all_zero(self, message: str) -> None:
        cells = cell_scores.all_failed(self.source, message)
        self.tests = cells + checks_zero(self.reference_checks, message)
        self.done = True


def read_submission(grading: NotebookGrading) -> None:
    """The submission as a notebook; one that is not scores 0 everywhere, with the reason."""
    try:
        grading.submitted_notebook = notebooks.read(grading.submitted, name=grading.filename)
    except notebooks.NotebookError as exc:
        grading.notes = [str(exc)]
        grading.all_zero(str(exc))


def restore(grading: NotebookGrading) -> None:
    """The instructor's locked and test cells put back (``notebooks.restore``)."""
    grading.restored = notebooks.restore(grading.submitted_notebook, grading.source)
    grading.notes = list(grading.restored.notes)


def prepare_checks(grading: NotebookGrading) -> None:
    """The reference checks and those of grade cells, with this submission's inputs, and what
    the student's code already fails (a forbidden API, tampering), said as cells and lines."""
    notebook = grading.restored.notebook
    grading.in_cells = cell_checks(grading.source, first_index=len(grading.reference_checks))
    grading.prepared = PreparedChecks.prepare(
        (*grading.reference_checks, *grading.in_cells),
        student_code(notebook),
        grading.private,
        grading.data_files,
        aliases=notebook_aliases(notebook),
        key=grading.check_key,
    ).told_in_cells(cell_lines(notebook))


def place_checks(grading: NotebookGrading) -> None:
    """The notebook to run: each grade cell's check in that cell's place, the reference checks
    after the student's cells."""
    prepared, names = grading.prepared, grading.in_cell_names
    grading.notebook = copy.deepcopy(grading.restored.notebook)
    grading.placed = _place_checks(grading.notebook, prepared, names)
    grading.first_check = len(grading.notebook.cells)
    grading.student_cells = _student_cells(grading.notebook, grading.source, set(grading.placed))
    grading.notebook.cells.extend(check_cell(c) for c in prepared.to_run if c.name not in names)
    grading.replaced = public_datasets(prepared.to_run)


def run(grading: NotebookGrading) -> None:
    """The notebook in the sandbox (``execution.run_notebook``)."""
    prepared = grading.prepared
    grading.execution = run_notebook(
        grading.notebook,
        data_files={**grading.data_files, **prepared.input_files()},
        limits=grading.limits,
        cell_timeout=grading.cell_timeout,
        collect=prepared.output_files(),
        replaced=grading.replaced,
        student_cells=grading.student_cells,
    )


def note_how_it_ended(grading: NotebookGrading) -> None:
    """Why the run stopped early or changed the kernel, for the student; a run that left no
    notebook scores 0 everywhere."""
    execution = grading.execution
    grading.stopped = stopped_note(execution, grading.limits)
    if grading.stopped:
        grading.notes.append(grading.stopped)
    sandbox = execution.sandbox
    grading.log = unhidden(grading.replaced, sandbox) + (sandbox.stderr or "")[-4000:]
    if execution.executed is None:
        could_not = "The notebook could not be run."
        grading.all_zero(
            nothing_scored(grading.notes, execution.tampered, grading.stopped, could_not)
        )
        return
    grading.tampered = set(execution.status.get("tampered", []))
    if grading.tampered:
        grading.notes.append(
            "The notebook changed how the kernel runs code (IPython transformers, hooks or "
            "patches), so the tests after that scored 0."
        )


def score_cells(grading: NotebookGrading) -> None:
    """The instructor's grade cells, as nbgrader scores them (``notebooks.score``)."""
    execution, source = grading.execution, grading.source
    expected = [g for g in notebooks.graded_ids(source) if g not in grading.in_cell_names]
    grading.tests = cell_scores.score(
        execution.executed,
        expected=expected,
        hidden=notebooks.hidden_test_ids(source),
        unreached=execution.unreached,
        errors=set(execution.status.get("errors", [])) | grading.tampered,
        source=source,
    )


def score_checks(grading: NotebookGrading) -> None:
    """The checks, from how their cells ended and the outputs they left."""
    execution, prepared = grading.execution, grading.prepared
    grading.tests += prepared.score(
        _check_cell_results(execution, grading.tampered),
        execution.files,
        grading.notes,
        status=execution.status,
        stderr=execution.sandbox.stderr,
    )
    grading.log = "".join(f"{line}\n" for line in prepared.staff_log) + grading.log
    grading.device = prepared.device


def _check_cell_results(execution: Execution, tampered: set[int]) -> dict[str, dict]:
    """How each check's cell ended, by check name."""
    failed = set(execution.status.get("errors", [])) | tampered | execution.unreached
    results = {}
    durations = execution.status.get("durations") or {}
    changed = changed_outputs(execution.files, execution.status.get("outputs") or {})
    for index, cell in enumerate(execution.executed.cells):
        meta = cell.get("metadata", {}).get(notebooks.RUNNER_METADATA, {})
        if not meta.get("check"):
            continue
        if index in failed or cell.get("execution_count") is None:
            text = cell_text.check_text(cell.outputs) or "This check did not run."
            result = {"status": "failed", "output": text}
        elif meta.get("outputs") in changed:
            result = {"status": "failed", "output": CHANGED_OUTPUTS}
        else:
            result = {"status": "passed", "duration": durations.get(str(index))}
        results[meta.get("check")] = result
    return results


def leave_as_it_ran(grading: NotebookGrading) -> None:
    """The executed notebook as the student's, as it ran: without the check cells appended,
    and each grade cell a check took as the instructor wrote it (its result is in the tests)."""
    executed = grading.execution.executed
    del executed.cells[grading.first_check :]
    for index, cell in grading.placed.items():
        executed.cells[index].source = cell.source
        executed.cells[index].outputs = []


NOTEBOOK_STEPS = (
    read_submission,
    restore,
    prepare_checks,
    place_checks,
    run,
    note_how_it_ended,
    score_cells,
    score_checks,
    leave_as_it_ran,
)


def _student_cells(notebook, source, placed: set[int]) -> set[int]:
    """The code cells that hold the student's code: any but a locked or test cell restored from
    the source (``notebooks.restore`` put those back as the instructor wrote them) and the
    checks put in place of grade cells. Until one of them runs, a failure is not the student's
    (``execution.require_student_code``)."""
    instructor = set()
    for cell in source.cells:
        locked = notebooks.nbgrader_meta(cell).get("locked")
        if notebooks.grade_id(cell) and (notebooks.is_test(cell) or locked):
            instructor.add(notebooks.grade_id(cell))
    return {
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        and cell.source.strip()
        and index not in placed
        and notebooks.grade_id(cell) not in instructor
    }


def _place_checks(notebook, prepared: PreparedChecks, names: set[str]) -> dict:
    """Put the code that runs each check declared in a grade cell in that cell's place; returns
    the cells replaced, by index. A check that is not run (a forbidden API) leaves its cell as it
    is: comments, which do nothing."""
    to_run = {c.name: c for c in prepared.to_run if c.name in names}
    placed = {}
    for index, cell in enumerate(notebook.cells):
        check = to_run.pop(notebooks.grade_id(cell) or "", None)
        if check is None or cell.cell_type != "code":
            continue
        placed[index] = copy.deepcopy(cell)
        cell.source = check_cell(check).source
        cell.outputs, cell.execution_count = [], None
        cell.metadata["autograder"] = check_cell_meta(check)
    return placed
