"""Scoring an executed notebook's grade cells as nbgrader's ``determine_grade`` does: cells the run
never reached score 0, answers the student never touched score 0, written answers and tasks wait
for a TA.

nbgrader itself is imported lazily: it pulls in jupyter_server (1.5 s), which only the worker needs.
"""

from __future__ import annotations

from decimal import Decimal

from nbformat import NotebookNode

from autograder.cell_text import text_of, visible_part
from autograder.grades import TestResult
from autograder.notebooks import cell_points, grade_id, graded_cells, is_manual, nbgrader_meta


def score(
    executed: NotebookNode,
    *,
    expected: list[str],
    hidden: set[str] = frozenset(),
    unreached: set[int] = frozenset(),
    errors: set[int] = frozenset(),
    source: NotebookNode | None = None,
) -> list[TestResult]:
    """Score every grade cell of the executed notebook as nbgrader does. ``hidden``: test cells
    whose tracebacks are not shown (``hidden_test_ids``); ``unreached``: indexes of cells the run
    never got to (the kernel died or the time ran out): their tests score 0; ``errors``: cells
    whose execute reply was an error, which fail even if their traceback was suppressed;
    ``source``: the source notebook, for the cells the executed one lacks (``_missing``)."""
    results = {}
    for index, cell in enumerate(executed.cells):
        meta, gid = nbgrader_meta(cell), grade_id(cell)
        if gid not in expected or gid in results:
            continue
        results[gid] = _score_cell(cell, index, meta, hidden, unreached, errors)
    cells = {grade_id(c): c for c in source.cells} if source is not None else {}
    return [results.get(gid) or _missing(gid, cells.get(gid)) for gid in expected]


MISSING_ANSWER = "This answer cell was not in your notebook; a TA will look at it."


def _missing(gid: str, cell: NotebookNode | None) -> TestResult:
    """A grade cell the executed notebook lacks: a deleted answer (``restore`` puts back only
    tests and locked cells) goes to a TA with its points, as nbgrader leaves it
    (``needs_manual_grade``)."""
    meta = nbgrader_meta(cell) if cell is not None else {}
    if meta.get("solution") or meta.get("task"):
        return TestResult(gid, None, cell_points(cell), "manual", MISSING_ANSWER)
    points = cell_points(cell) if cell is not None else Decimal(0)
    return TestResult(
        gid, Decimal(0), points, "not_run", "This cell was not in the graded notebook."
    )


def _score_cell(cell, index, meta, hidden, unreached, errors) -> TestResult:
    gid = grade_id(cell)
    maximum = cell_points(cell)
    if not meta.get("grade"):  # a task: nbgrader never scores one itself
        return TestResult(gid, None, maximum, "manual", "")
    if meta.get("solution") or cell.cell_type != "code":
        return _answer_score(cell, gid, maximum)
    if index in unreached or cell.get("execution_count") is None:
        reason = "This test did not run: the notebook stopped before reaching it."
        return TestResult(gid, Decimal(0), maximum, "not_run", reason)
    try:
        points, _ = (0, None) if index in errors else _determine_grade(cell)
    except ValueError:  # a test cell whose result is more than its points: no partial credit
        points = 0
    points = min(Decimal(str(points)), maximum).quantize(Decimal("0.001"))
    status = "passed" if points == maximum else "failed" if points == 0 else "partial"
    shown = text_of(cell.outputs, hidden=gid in hidden, visible=visible_part(cell.source))
    return TestResult(gid, points, maximum, status, shown)


NO_RESPONSE = "No answer: this cell is as it was handed out, so it scores 0, as in nbgrader."


def _answer_score(cell, gid: str, maximum: Decimal) -> TestResult:
    """An answer cell (a written answer, or code a TA reads): nbgrader's ``determine_grade`` scores
    it 0 when its checksum is the released one (the student never answered) and otherwise leaves
    it for a TA. The checksum compared is the release's, put back by ``restore``."""
    points, _ = _determine_grade(cell)
    if points is None:
        return TestResult(gid, None, maximum, "manual", "")
    return TestResult(gid, Decimal(0), maximum, "unanswered", NO_RESPONSE)


def _determine_grade(cell):
    from nbgrader.utils import determine_grade

    return determine_grade(cell)


def all_failed(source: NotebookNode, message: str) -> list[TestResult]:
    """Every grade cell of ``source`` failed with ``message``, when nothing could be scored; a
    written answer or task still waits for a TA."""
    return [
        TestResult(grade_id(c), None, cell_points(c), "manual", "")
        if is_manual(c)
        else TestResult(grade_id(c), Decimal(0), cell_points(c), "failed", message)
        for c in graded_cells(source)
    ]


def none_run(source: NotebookNode, message: str) -> list[TestResult]:
    """Every grade and task cell of ``source`` at 0, not run, written answers and tasks included
    (nbgrader's rule for a notebook that was not submitted)."""
    return [
        TestResult(grade_id(c), Decimal(0), cell_points(c), "not_run", message)
        for c in graded_cells(source)
    ]
