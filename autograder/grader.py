"""Grading one submission, as plain data: a notebook (restore → run in the sandbox → score) or
Python files (the harness's tests run in the sandbox).

No database here: the Celery task, ``manage.py autograde`` and the tests all call ``grade_notebook``
or ``grade_python`` with bytes and get a ``Grade`` back, so every path grades the same way.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal

from autograder import harness, notebooks
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
from autograder.execution import Execution, run_notebook, run_python_tests
from autograder.harness import HarnessSpec
from autograder.results import HIDDEN_OUTPUT, TestResult, reported
from autograder.sandbox import Limits, SandboxResult, isolation_level

STOP_REASONS = {
    "timeout": "{what} ran longer than the {limit} s allowed for a run; it was stopped.",
    "cpu_limit": "{what} used more CPU time than allowed and was stopped.",
    "memory_limit": "{what} used more memory than the {memory} MB allowed.",
    "output_limit": "{what} printed more than the {output} KB of output allowed.",
    "disk_limit": "{what} wrote more than the {disk} MB or {entries} files allowed in its folder.",
    "signal": "{what} was killed.",
}


@dataclass
class Grade:
    tests: list[TestResult]
    notes: list[str] = field(default_factory=list)  # for the student
    log: str = ""  # for staff
    executed: bytes = b""
    isolation: str = ""
    duration_seconds: float = 0.0
    device: str = "cpu"  # where reference checks ran
    # An assignment of several notebooks (``autograder.notebook_set``): each executed notebook by
    # file name; ``executed`` is then empty.
    executed_notebooks: dict[str, bytes] = field(default_factory=dict)

    @property
    def score(self) -> Decimal:
        return sum((t.score for t in self.tests if t.score is not None), Decimal(0))

    @property
    def max_score(self) -> Decimal:
        return sum((t.max_score for t in self.tests), Decimal(0))


def _all_zero(source, message: str) -> list[TestResult]:
    """Every grade cell of the assignment, at 0 (written answers still wait for a TA)."""
    results = []
    for cell in source.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
        if meta.get("grade") or meta.get("task"):
            points = Decimal(str(meta.get("points", 0)))
            manual = notebooks.is_manual(cell)
            results.append(
                TestResult(
                    meta.get("grade_id", "?"),
                    None if manual else Decimal(0),
                    points,
                    "manual" if manual else "failed",
                    "" if manual else message,
                )
            )
    return results


def _stopped_note(execution: Execution, limits: Limits) -> str | None:
    """Why the run stopped early, for the student (it got as far as the student's code, or
    ``run_notebook`` would have raised an infrastructure fault instead)."""
    state = execution.status.get("state")
    if execution.sandbox.stopped_because in STOP_REASONS:
        return _sandbox_note(execution.sandbox, limits, what="The notebook")
    if state == "kernel_died":
        return (
            "The notebook's kernel died (os._exit, a crash, or too much memory); "
            "the cells after that did not run."
        )
    if state == "runner_error":
        return "The notebook's kernel stopped answering; the cells after that did not run."
    return None


def _nothing_scored(notes: list[str], tampered: bool, stopped: str | None, otherwise: str) -> str:
    """Why a run left nothing to score, added to ``notes`` once; every test gets it too."""
    if tampered:
        message = "The grading files were changed by the submission; nothing could be scored."
    else:
        message = stopped or otherwise
    if message not in notes:
        notes.append(message)
    return message


def _sandbox_note(sandbox: SandboxResult, limits: Limits, *, what: str) -> str | None:
    """Why the sandbox stopped the run, if it did, for the student."""
    template = STOP_REASONS.get(sandbox.stopped_because)
    if template is None:
        return None
    return template.format(
        what=what,
        limit=int(limits.wall_seconds),
        memory=limits.memory_bytes // 2**20,
        output=limits.output_bytes // 1024,
        disk=limits.disk_bytes // 2**20,
        entries=limits.disk_entries,
    )


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
) -> Grade:
    """``reference_checks`` (``autograder.checks``) run after the student's cells, in the same
    kernel, on the notebook's variables, and checks declared in the source's grade cells
    (``checks.cells.cell_checks``) run in their place; ``private``: the instructor's files they may
    use."""
    started = time.monotonic()
    source_nb = notebooks.read(source, name="the assignment's source notebook")
    try:
        submitted_nb = notebooks.read(submitted, name=filename)
    except notebooks.NotebookError as exc:
        tests = _all_zero(source_nb, str(exc)) + checks_zero(reference_checks, str(exc))
        return Grade(tests, notes=[str(exc)], isolation=isolation_level())
    restored = notebooks.restore(submitted_nb, source_nb)
    in_cells = cell_checks(source_nb, first_index=len(reference_checks))
    prepared = PreparedChecks.prepare(
        (*reference_checks, *in_cells), student_code(restored.notebook), private or {},
        data_files, aliases=notebook_aliases(restored.notebook),
    ).told_in_cells(cell_lines(restored.notebook))  # fmt: skip
    notebook = copy.deepcopy(restored.notebook)
    in_cell_names = {c.name for c in in_cells}
    placed = _place_checks(notebook, prepared, in_cell_names)
    first_check = len(notebook.cells)
    student_cells = _student_cells(notebook, source_nb, set(placed))
    notebook.cells.extend(check_cell(c) for c in prepared.to_run if c.name not in in_cell_names)
    replaced = public_datasets(prepared.to_run)
    execution = run_notebook(
        notebook, data_files={**data_files, **prepared.input_files()}, limits=limits,
        cell_timeout=cell_timeout, collect=prepared.output_files(), replaced=replaced,
        student_cells=student_cells,
    )  # fmt: skip
    notes = list(restored.notes)
    stopped = _stopped_note(execution, limits)
    if stopped:
        notes.append(stopped)
    log = _unhidden(replaced, execution.sandbox) + (execution.sandbox.stderr or "")[-4000:]
    if execution.executed is None:
        could_not = "The notebook could not be run."
        message = _nothing_scored(notes, execution.tampered, stopped, could_not)
        tests = _all_zero(source_nb, message) + checks_zero(reference_checks, message)
        return Grade(
            tests, notes, log, b"", execution.sandbox.isolation, time.monotonic() - started
        )
    tampered = set(execution.status.get("tampered", []))
    if tampered:
        notes.append(
            "The notebook changed how the kernel runs code (IPython transformers, hooks or "
            "patches), so the tests after that scored 0."
        )
    scores = notebooks.score(
        execution.executed,
        expected=[g for g in notebooks.graded_ids(source_nb) if g not in in_cell_names],
        hidden=notebooks.hidden_test_ids(source_nb),
        unreached=execution.unreached,
        errors=set(execution.status.get("errors", [])) | tampered,
        source=source_nb,
    )
    tests = [TestResult(s.grade_id, s.points, s.max_points, s.status, s.output) for s in scores]
    failed = set(execution.status.get("errors", [])) | tampered | execution.unreached
    results = {}
    durations = execution.status.get("durations") or {}
    changed = changed_outputs(execution.files, execution.status.get("outputs") or {})
    for index, cell in enumerate(execution.executed.cells):
        if not cell.get("metadata", {}).get("autograder", {}).get("check"):
            continue
        if index in failed or cell.get("execution_count") is None:
            text = notebooks.check_text(cell.outputs) or "This check did not run."
            result = {"status": "failed", "output": text}
        elif cell.metadata.get("autograder", {}).get("outputs") in changed:
            result = {"status": "failed", "output": CHANGED_OUTPUTS}
        else:
            result = {"status": "passed", "duration": durations.get(str(index))}
        results[cell.metadata.get("autograder", {}).get("check")] = result
    tests += prepared.score(
        results, execution.files, notes, status=execution.status, stderr=execution.sandbox.stderr
    )
    log = "".join(f"{line}\n" for line in prepared.staff_log) + log
    del execution.executed.cells[first_check:]  # the student's notebook, as it ran
    for index, cell in placed.items():  # a check cell as the instructor wrote it; its result is
        execution.executed.cells[index].source = cell.source  # in the run's tests
        execution.executed.cells[index].outputs = []
    return Grade(
        tests,
        notes,
        log,
        notebooks.dumps(execution.executed),
        execution.sandbox.isolation,
        time.monotonic() - started,
        prepared.device,
    )


def _student_cells(notebook, source, placed: set[int]) -> set[int]:
    """The code cells that hold the student's code: any but a locked or test cell restored from
    the source (``notebooks.restore`` put those back as the instructor wrote them) and the
    checks put in place of grade cells. Until one of them runs, a failure is not the student's
    (``execution.require_student_code``)."""
    instructor = set()
    for cell in source.cells:
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if notebooks.grade_id(cell) and (notebooks.is_test(cell) or meta.get("locked")):
            instructor.add(notebooks.grade_id(cell))
    return {
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and cell.source.strip() and index not in placed
        and notebooks.grade_id(cell) not in instructor
    }  # fmt: skip


def _unhidden(replaced: dict, sandbox: SandboxResult) -> str:
    """For staff: a training check's held-out data could not be hidden from the run."""
    if not replaced or sandbox.isolation == "bubblewrap":
        return ""
    return (
        "Warning: without bubblewrap the sandbox could not hide the held-out part of the data "
        "set from the student's code; a training check's score can be gamed.\n"
    )


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


def grade_python(
    *,
    spec: HarnessSpec,
    instructor_files: dict[str, bytes],
    submitted: dict[str, bytes],
    data_files: dict[str, bytes],
    limits: Limits,
    test_timeout: int,
) -> Grade:
    """Grade a Python-file submission: the harness's tests (``autograder.harness``) and the
    reference checks (``autograder.checks``) run in the sandbox on the student's files; the
    checks' references run here. Each test and check scores all its points or none."""
    started = time.monotonic()
    missing = [name for name in spec.files if name not in submitted]
    if missing:
        message = f"Missing from the submission: {', '.join(missing)}."
        return Grade(_harness_zero(spec, message), [message], isolation=isolation_level())
    students = {n: submitted[n] for n in spec.files}
    prepared = PreparedChecks.prepare(spec.checks, students, instructor_files, data_files)
    spec = replace(spec, checks=prepared.checks)  # this submission's seeds (checks.inputs)
    # The harness and its private helpers run beside the student's code, its modules from
    # memory (never files the student's code could read); the spec and the checks' reference
    # solutions never enter the sandbox (the student's code could import or print them).
    in_sandbox = {n: c for n, c in instructor_files.items() if n in spec.sandbox_files}
    hidden = {n: c for n, c in in_sandbox.items() if n.endswith(".py")}
    plain = {n: c for n, c in in_sandbox.items() if n not in hidden}
    files = {**data_files, **students, **plain, **prepared.input_files()}
    runner_spec = spec.runner_spec(test_timeout, limits.output_bytes, skip=set(prepared.forbidden))
    replaced = public_datasets(prepared.to_run)
    visible = {t.function for t in spec.tests if not t.hidden}
    shown = {n: harness.shown_view(c, visible) for n, c in hidden.items() if n == spec.harness}
    run = run_python_tests(
        files, runner_spec, limits=limits, collect=prepared.output_files(), replaced=replaced,
        hidden=hidden, visible=harness.visible_modules(spec, hidden), shown=shown,
    )  # fmt: skip
    secrets = harness.secret_fragments(spec, hidden, students)
    notes = []
    stopped = _sandbox_note(run.sandbox, limits, what="Your code")
    if stopped:
        notes.append(stopped)
    log = _unhidden(replaced, run.sandbox) + (run.sandbox.stderr or "")[-4000:]
    reported = (run.status or {}).get("tests")
    if not isinstance(reported, list) or len(reported) != len(runner_spec["tests"]):
        message = _nothing_scored(notes, run.tampered, stopped, "The tests could not be run.")
        tests = _harness_zero(spec, message)
        return Grade(tests, notes, log, b"", run.sandbox.isolation, time.monotonic() - started)
    if run.status.get("state") == "import_error":
        notes.append("Your code could not be imported, so every test failed; see the first test.")
    results = dict(zip([t["name"] for t in runner_spec["tests"]], reported, strict=True))
    changed = changed_outputs(run.files, run.status.get("outputs") or {})
    for check in spec.checks:  # outputs not as the runner took them when the check was done
        if check.files()[1] in changed and results[check.name].get("status") == "passed":
            results[check.name] = {"status": "failed", "output": CHANGED_OUTPUTS}
    tests = [_harness_result(test, results[test.name]) for test in spec.tests]
    tests += prepared.score(results, run.files, notes, status=run.status, stderr=run.sandbox.stderr)
    told = [_without_secrets(test, secrets) for test in tests]
    staff = prepared.staff_log + [
        f"The output of {test.name!r} held text of the hidden tests or private modules, which "
        "the student's code had read; it was withheld from the student."
        for kept, test in zip(told, tests, strict=True) if kept is not test
    ]  # fmt: skip
    tests, log = told, "".join(f"{line}\n" for line in staff) + log
    return Grade(
        tests, notes, log, b"", run.sandbox.isolation, time.monotonic() - started, prepared.device
    )


SECRET_OUTPUT = "This output held text of the hidden tests or the grader's files; it is not shown."


def _without_secrets(test: TestResult, secrets: set[str]) -> TestResult:
    """The test with its output withheld if it holds text the student may not see (it got
    there only by the student's code reading the hidden tests)."""
    if not any(fragment in test.output for fragment in secrets):
        return test
    return TestResult(test.name, test.score, test.max_score, test.status, SECRET_OUTPUT)


def _harness_result(test, result) -> TestResult:
    status, output = reported(result)
    if test.hidden:
        output = HIDDEN_OUTPUT
    points = test.points if status == "passed" else Decimal(0)
    return TestResult(test.name, points, test.points, status, output)


def _harness_zero(spec: HarnessSpec, message: str) -> list[TestResult]:
    return [
        TestResult(t.name, Decimal(0), t.points, "failed", message)
        for t in (*spec.tests, *spec.checks)
    ]


def test_dicts(grade: Grade) -> list[dict]:
    """The tests as stored on a grading run (JSON: numbers as strings)."""
    return [
        {
            "name": t.name,
            "score": None if t.score is None else str(t.score),
            "max_score": str(t.max_score),
            "status": t.status,
            "output": t.output,
        }
        for t in grade.tests
    ]


def _points(test: dict, manual: dict[str, Decimal]) -> Decimal | None:
    points = manual.get(test["name"]) if test["status"] == "manual" else test["score"]
    return None if points is None else Decimal(points)


def total_points(tests: list[dict], manual: dict[str, Decimal]) -> Decimal:
    """Autograded points plus the hand grades given so far."""
    return sum((p for t in tests if (p := _points(t, manual)) is not None), Decimal(0))


def gradescope_results(
    tests: list[dict], *, manual: dict[str, Decimal], execution_time: float, output: str
) -> dict:
    """Tests as Gradescope's ``results.json`` (score, execution_time, output, tests)."""
    rows = []
    for test in tests:
        points, maximum = _points(test, manual), Decimal(test["max_score"])
        rows.append(
            {
                "name": test["name"],
                "score": None if points is None else float(points),
                "max_score": float(maximum),
                "status": "passed" if points == maximum else "failed",
                "output": test["output"] or ("Waiting for a hand grade." if points is None else ""),
                "visibility": "visible",
            }
        )
    return {
        "score": float(total_points(tests, manual)),
        "execution_time": round(execution_time, 3),
        "output": output,
        "tests": rows,
    }


def results_json(grade: Grade) -> dict:
    return gradescope_results(
        test_dicts(grade), manual={}, execution_time=grade.duration_seconds,
        output="\n".join(grade.notes),
    )  # fmt: skip
