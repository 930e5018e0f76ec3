"""Grading one notebook submission: restore → run in the sandbox → score, as plain data.

No database here: the Celery task, ``manage.py autograde`` and the tests all call ``grade_notebook``
with bytes and get a ``Grade`` back, so every path grades the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal

from autograder import notebooks
from autograder.execution import Execution, run_notebook
from autograder.sandbox import Limits, isolation_level

STOP_REASONS = {
    "timeout": "The notebook ran longer than the {limit} s allowed for a run; it was stopped.",
    "cpu_limit": "The notebook used more CPU time than allowed and was stopped.",
    "memory_limit": "The notebook used more memory than the {memory} MB allowed.",
    "output_limit": "The notebook printed more than the {output} KB of output allowed.",
    "signal": "The notebook's process was killed.",
}


@dataclass(frozen=True)
class TestResult:
    name: str
    score: Decimal | None  # None: waits for a hand grade
    max_score: Decimal
    status: str  # passed, failed, partial, not_run, manual
    output: str


@dataclass
class Grade:
    tests: list[TestResult]
    notes: list[str] = field(default_factory=list)  # for the student
    log: str = ""  # for staff
    executed: bytes = b""
    isolation: str = ""
    duration_seconds: float = 0.0

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
    template = STOP_REASONS.get(execution.sandbox.stopped_because)
    if template is None:
        if execution.status.get("state") == "kernel_died":
            return (
                "The notebook's kernel died (os._exit, a crash, or too much memory); "
                "the cells after that did not run."
            )
        return None
    return template.format(
        limit=int(limits.wall_seconds),
        memory=limits.memory_bytes // 2**20,
        output=limits.output_bytes // 1024,
    )


def grade_notebook(
    *,
    source: bytes,
    submitted: bytes,
    data_files: dict[str, bytes],
    limits: Limits,
    cell_timeout: int,
    filename: str = "the notebook",
) -> Grade:
    started = time.monotonic()
    source_nb = notebooks.read(source, name="the assignment's source notebook")
    try:
        submitted_nb = notebooks.read(submitted, name=filename)
    except notebooks.NotebookError as exc:
        return Grade(_all_zero(source_nb, str(exc)), notes=[str(exc)], isolation=isolation_level())
    restored = notebooks.restore(submitted_nb, source_nb)
    execution = run_notebook(
        restored.notebook, data_files=data_files, limits=limits, cell_timeout=cell_timeout
    )
    notes = list(restored.notes)
    stopped = _stopped_note(execution, limits)
    if stopped:
        notes.append(stopped)
    log = (execution.sandbox.stderr or "")[-4000:]
    if execution.executed is None:
        if execution.tampered:
            message = "The grading files were changed by the submission; nothing could be scored."
        else:
            message = stopped or "The notebook could not be run."
        if message not in notes:
            notes.append(message)
        tests = _all_zero(source_nb, message)
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
        expected=notebooks.graded_ids(source_nb),
        hidden=notebooks.hidden_test_ids(source_nb),
        unreached=execution.unreached,
        errors=set(execution.status.get("errors", [])) | tampered,
    )
    tests = [TestResult(s.grade_id, s.points, s.max_points, s.status, s.output) for s in scores]
    return Grade(
        tests,
        notes,
        log,
        notebooks.dumps(execution.executed),
        execution.sandbox.isolation,
        time.monotonic() - started,
    )


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
