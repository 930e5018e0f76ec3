"""The nbgrader-format notebook steps, each small and testable on its own notebook:

``read`` (validate what was uploaded) → ``release_version`` (the student version, made by nbgrader's
own preprocessors) → ``restore`` (put back locked and test cells a student changed or deleted, with
the hidden tests) → execution in the sandbox (``autograder.execution``) → ``score`` (nbgrader's
``determine_grade`` per grade cell; cells the run never reached score 0; written answers wait for a
TA).

nbgrader itself is imported lazily: it pulls in jupyter_server (1.5 s), which only the worker needs.
"""

from __future__ import annotations

import builtins
import copy
import json
import warnings
from dataclasses import dataclass, field
from decimal import Decimal

import nbformat
from nbformat import NotebookNode
from nbformat.warnings import MissingIDFieldWarning

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
SUFFIX = ".ipynb"
RUNNER_METADATA = "autograder"  # a cell's key that nbrunner reads (``checks.cells``)


class NotebookError(ValueError):
    """A notebook that cannot be graded; the message is for the student."""


def read(data: bytes, *, name: str = "notebook") -> NotebookNode:
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB.")
    try:
        raw = json.loads(data.decode("utf-8"))
    except RecursionError as exc:
        raise NotebookError(f"{name} is not a notebook: its JSON is nested too deeply.") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotebookError(f"{name} is not a notebook: it is not valid JSON ({exc}).") from exc
    if not isinstance(raw, dict) or raw.get("nbformat") != 4:
        found = raw.get("nbformat") if isinstance(raw, dict) else None
        raise NotebookError(
            f"{name} is nbformat {found!r}; save it from Jupyter as a version 4 notebook."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingIDFieldWarning)  # old notebooks: no cell ids
            notebook = nbformat.reads(json.dumps(raw), as_version=4)
            nbformat.validate(notebook)
    except Exception as exc:  # nbformat raises several kinds; all mean "not a valid notebook"
        raise NotebookError(f"{name} is not a valid notebook: {str(exc).splitlines()[0]}") from exc
    return notebook


def dumps(notebook: NotebookNode) -> bytes:
    return nbformat.writes(notebook).encode("utf-8")


def _meta(cell: NotebookNode) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}  # a student can write anything there


def grade_id(cell: NotebookNode) -> str | None:
    gid = _meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def is_test(cell: NotebookNode) -> bool:
    """An autograded test cell: code, graded, not a solution."""
    meta = _meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_manual(cell: NotebookNode) -> bool:
    """Graded by hand: a graded solution cell (a written answer or code a TA reads) or a task."""
    meta = _meta(cell)
    return bool(meta.get("grade") and meta.get("solution")) or bool(meta.get("task"))


def release_version(source: NotebookNode, *, name: str = "The notebook") -> NotebookNode:
    """The student version, the nbgrader way: solutions replaced by the stub, hidden tests and
    mark schemes removed, outputs cleared, cells locked, checksums recorded. A source nbgrader
    itself would refuse (``check_metadata``; a solution region outside a solution cell, one with
    no end) is a ``NotebookError`` that says why."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )
    from nbgrader.preprocessors.clearmarkingscheme import ClearMarkScheme

    check_metadata(source, name=name)
    notebook, resources = copy.deepcopy(source), {}
    steps = (CheckCellMetadata, LockCells, ClearSolutions, ClearOutput, ClearHiddenTests,
             ClearMarkScheme, ComputeChecksums)  # fmt: skip
    try:
        for step in steps:
            notebook, resources = step().preprocess(notebook, resources)
    except (RuntimeError, ValueError) as exc:  # ClearSolutions: the regions, the language
        raise NotebookError(f"{name}: {exc}") from exc
    return notebook


def check_metadata(notebook: NotebookNode, *, name: str) -> None:
    """nbgrader's own check of its cell metadata (``nbgrader validate`` and every nbgrader
    command run it), with the reason it gives in the message rather than only in its log."""
    from jsonschema import ValidationError as SchemaError
    from nbgrader.nbgraderformat import MetadataValidator
    from nbgrader.nbgraderformat.common import SchemaTooNewError, SchemaTooOldError

    try:
        MetadataValidator().validate_nb(notebook)
    except SchemaTooOldError as exc:
        raise NotebookError(
            f"{name} has nbgrader metadata of schema version {exc.actual_version}, older than "
            f"the version {exc.expected_version} this grader reads: run `nbgrader update` on it "
            "and import it again."
        ) from exc
    except SchemaTooNewError as exc:
        raise NotebookError(
            f"{name} was made by a newer nbgrader (metadata schema version {exc.actual_version}; "
            f"this grader reads version {exc.expected_version})."
        ) from exc
    except SchemaError as exc:
        raise NotebookError(f"{name}: its nbgrader metadata is not valid: {exc.message}") from exc


class SourceError(Exception):
    """An assignment's stored source that cannot be graded (our side, never the student's): the
    grading fails for staff to see instead of giving a score."""


def free_points(source: NotebookNode, *, besides: set[str] = frozenset()) -> str:
    """Why ``source`` would give points for tests that never run, or "" when it would not:
    nbgrader ``### AUTOTEST`` directives left unexpanded, or a test cell with no code.
    ``besides``: grade cells that are not run as written (reference checks, ``checks``)."""
    autotests = autotest_lines(source)
    if autotests:
        return (
            f"it uses nbgrader's AUTOTEST directives ({'; '.join(autotests[:3])}), which this "
            "grader does not expand: its tests would be only comments and pass whatever the "
            "student wrote. Write the asserts into the cells (for example the ones `nbgrader "
            "generate_assignment` makes from them) and import it again."
        )
    empty = empty_tests(source, besides=besides)
    if empty:
        return (
            f"the test cell {', '.join(empty)} has points but no code, so it would pass whatever "
            "the student wrote; write its tests, or set its points to 0."
        )
    return ""


AUTOTEST = "AUTOTEST"


def autotest_lines(notebook: NotebookNode) -> list[str]:
    """Where a source uses nbgrader's ``### AUTOTEST`` (or ``### HASHED AUTOTEST``) directives,
    as "cell ID: line". nbgrader's rule (``InstantiateTests``): a comment line of a code cell that
    holds the word. ``nbgrader generate_assignment`` expands them into asserts by running the
    solution; this grader does not, and unexpanded they are comments: a test that always passes."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for line in str(cell.source).split("\n"):
            if AUTOTEST in line and line.strip().startswith("#"):
                found.append(f"cell {grade_id(cell) or index + 1}: {line.strip()}")
    return found


def empty_tests(notebook: NotebookNode, *, besides: set[str] = frozenset()) -> list[str]:
    """Test cells worth points that hold no code (only comments, blank lines or a docstring), so
    that they pass whatever the student wrote; ``besides``: cells that are not run as written
    (reference checks declared in a grade cell)."""
    import ast

    found = []
    for cell in notebook.cells:
        gid = grade_id(cell)
        if not is_test(cell) or gid in besides or not _points(cell):
            continue
        try:
            body = ast.parse(str(cell.source)).body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # IPython syntax (magics) or a broken test: it runs and says so
        if all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in body):
            found.append(gid)
    return found


def _points(cell: NotebookNode) -> Decimal:
    try:
        return Decimal(str(_meta(cell).get("points") or 0))
    except ArithmeticError:
        return Decimal(0)


def test_name(notebook_name: str, gid: str) -> str:
    """A grade cell's name in an assignment of several notebooks, where nbgrader's ids are unique
    per notebook only: ``problem1/correct_squares``. (With one notebook it is the id itself.)"""
    return f"{notebook_stem(notebook_name)}/{gid}"


def notebook_stem(notebook_name: str) -> str:
    return notebook_name.removesuffix(SUFFIX)


@dataclass
class Restored:
    notebook: NotebookNode
    notes: list[str] = field(default_factory=list)  # what was put back, for the student


def _checksum(cell: NotebookNode) -> str:
    from nbgrader.utils import compute_checksum

    return compute_checksum(cell)


def restore(submitted: NotebookNode, source: NotebookNode) -> Restored:
    """The notebook to run: the student's cells, with every locked cell and test cell as the
    instructor wrote it (tests with their hidden part), nbgrader metadata as released (points
    cannot be edited), no ``autograder`` metadata of the student's, and deleted locked or test
    cells put back in place."""
    release = release_version(source)
    released = {grade_id(c): c for c in release.cells if grade_id(c)}
    canonical = {}
    for cell in source.cells:
        gid = grade_id(cell)
        if gid and (is_test(cell) or _meta(cell).get("locked")):
            canonical[gid] = copy.deepcopy(cell if is_test(cell) else released[gid])
    result, seen = (
        Restored(nbformat.v4.new_notebook(metadata=copy.deepcopy(source.metadata))),
        set(),
    )
    for cell in submitted.cells:
        cell = copy.deepcopy(cell)
        # What the runner honours (a check's name, inputs and outputs, a time limit) is only
        # ever the instructor's: the cells restored from the source and the checks put in.
        cell.metadata.pop(RUNNER_METADATA, None)
        gid = grade_id(cell)
        if gid is None or gid in seen or gid not in released:
            # Only the instructor's cells are graded: a copy, an unknown id, or a cell of the
            # student's own claiming to be a test counts for nothing.
            cell.metadata.pop("nbgrader", None)
            gid = None
        if gid in canonical:
            if _checksum(cell) != released[gid].metadata.nbgrader.get("checksum") or (
                cell.cell_type != released[gid].cell_type
            ):
                result.notes.append(f"Cell {gid} is locked; your changes to it were undone.")
            cell = copy.deepcopy(canonical[gid])
        elif gid:
            cell.metadata["nbgrader"] = copy.deepcopy(released[gid].metadata.nbgrader)
            cell.cell_type = released[gid].cell_type
        if gid:
            seen.add(gid)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        result.notebook.cells.append(cell)
    _put_back_missing(result, source, canonical, seen)
    return result


def _put_back_missing(result: Restored, source, canonical: dict, seen: set) -> None:
    order = [grade_id(c) for c in source.cells if grade_id(c)]
    for position, gid in enumerate(order):
        if gid in seen or gid not in canonical:
            continue
        earlier = [g for g in order[:position] if g in seen]
        ids = [grade_id(c) for c in result.notebook.cells]
        at = ids.index(earlier[-1]) + 1 if earlier else 0
        result.notebook.cells.insert(at, copy.deepcopy(canonical[gid]))
        seen.add(gid)
        result.notes.append(f"Cell {gid} was missing from your notebook; it was put back.")


@dataclass(frozen=True)
class CellScore:
    grade_id: str
    points: Decimal | None  # None: waits for a hand grade
    max_points: Decimal
    status: str  # passed, failed, partial, not_run, unanswered, manual
    output: str  # what the student may see (hidden tests' source is never included)

    @property
    def name(self) -> str:
        return self.grade_id


def hidden_test_ids(source: NotebookNode) -> set[str]:
    """Test cells with a hidden part: their tracebacks would show it, so students get less."""
    return {grade_id(c) for c in source.cells if is_test(c) and "BEGIN HIDDEN TESTS" in c.source}


def text_of(outputs: list, *, hidden: bool, visible: str = "") -> str:
    """A cell's outputs as the student may read them. ``hidden`` (a test with a hidden part):
    only the kind of its error, when that is one of Python's own exceptions, and its message only
    when the message is text of ``visible`` (the cell's source without the hidden part), such as
    an ``assert``'s message in the visible part.

    The hidden part runs in the student's kernel, where the student's code can read it (from the
    call stack, ``In``) and put it into anything it raises or prints: an exception's message, or
    the name of an exception class of its own making. So nothing else is shown."""
    parts = []
    for output in outputs:
        if output.output_type == "stream":
            if not hidden:
                parts.append(output.text)
        elif output.output_type == "error":
            if hidden:
                parts.append(_hidden_error(output.get("ename", ""), output.get("evalue"), visible))
            elif not output.get("traceback"):
                parts.append(f"{output.ename}: {output.evalue}".rstrip(": "))
            else:
                parts.append("\n".join(output.traceback))
        elif output.output_type in ("execute_result", "display_data") and not hidden:
            parts.append(output.get("data", {}).get("text/plain", ""))
    return strip_ansi("".join(p if p.endswith("\n") else p + "\n" for p in parts if p))[-4000:]


CHECK_ERRORS = ("CheckFailed", "ProbeError")
# Frames of a traceback that are not the student's code: the check's, torch's, the library's.
NOT_THE_STUDENTS = ("probes.py", "__import__('probes')", "site-packages", "/lib/python3")
MAX_TEXT = 4000


def check_text(outputs: list) -> str:
    """A reference check cell's outputs for the student: the check's own finding as it is, or the
    student's error with the student's frames only (not the check's, nor the cell that ran it,
    nor torch's), the last frames kept when it is long."""
    parts = []
    for output in outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            ename, evalue = output.get("ename", ""), str(output.get("evalue", ""))
            if ename in CHECK_ERRORS:
                parts.append(evalue)
                continue
            frames = [strip_ansi(f) for f in output.get("traceback", [])[1:-1]]
            frames = [f for f in frames if not any(m in f for m in NOT_THE_STUDENTS)]
            parts.append("\n".join([*frames[-3:], f"{ename}: {evalue}".rstrip(": ")]))
    text = strip_ansi("".join(p if p.endswith("\n") else p + "\n" for p in parts if p)).strip()
    return text if len(text) <= MAX_TEXT else "…" + text[-(MAX_TEXT - 1) :]


def _hidden_error(ename: str, evalue, visible: str) -> str:
    builtin = getattr(builtins, ename, None)
    if not (isinstance(builtin, type) and issubclass(builtin, BaseException)):
        return "An error in a test with a hidden part (its message is not shown)."
    message = evalue.strip() if isinstance(evalue, str) else ""
    if message and message in visible:
        return f"{ename}: {message}"
    return f"{ename} in a test with a hidden part (its message is not shown)."


def visible_part(source: str) -> str:
    """A test cell's source without its ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS``."""
    kept, hiding = [], False
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            hiding = True
        elif "END HIDDEN TESTS" in line:
            hiding = False
        elif not hiding:
            kept.append(line)
    return "\n".join(kept)


def strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def graded_ids(source: NotebookNode) -> list[str]:
    """The grade cells the instructor made, in order: the only ones that are ever scored."""
    return [
        grade_id(c)
        for c in source.cells
        if grade_id(c) and (_meta(c).get("grade") or _meta(c).get("task"))
    ]


def graded_points(source: NotebookNode) -> Decimal:
    """What a source notebook is worth: the points of its grade and task cells."""
    total = Decimal(0)
    for cell in source.cells:
        if _meta(cell).get("grade") or _meta(cell).get("task"):
            total += Decimal(str(_meta(cell).get("points", 0)))
    return total


def score(
    executed: NotebookNode,
    *,
    expected: list[str],
    hidden: set[str] = frozenset(),
    unreached: set[int] = frozenset(),
    errors: set[int] = frozenset(),
    source: NotebookNode | None = None,
) -> list[CellScore]:
    """Score every grade cell of the executed notebook as nbgrader does. ``hidden``: test cells
    whose tracebacks are not shown (``hidden_test_ids``); ``unreached``: indexes of cells the run
    never got to (the kernel died or the time ran out): their tests score 0; ``errors``: cells
    whose execute reply was an error, which fail even if their traceback was suppressed;
    ``source``: the source notebook, for the cells the executed one lacks (``_missing``)."""
    results = {}
    for index, cell in enumerate(executed.cells):
        meta, gid = _meta(cell), grade_id(cell)
        if gid not in expected or gid in results:
            continue
        results[gid] = _score_cell(cell, index, meta, hidden, unreached, errors)
    cells = {grade_id(c): c for c in source.cells} if source is not None else {}
    return [results.get(gid) or _missing(gid, cells.get(gid)) for gid in expected]


MISSING_ANSWER = "This answer cell was not in your notebook; a TA will look at it."


def _missing(gid: str, cell: NotebookNode | None) -> CellScore:
    """A grade cell the executed notebook lacks: a deleted answer (``restore`` puts back only
    tests and locked cells) goes to a TA with its points, as nbgrader leaves it
    (``needs_manual_grade``)."""
    if cell is not None and (_meta(cell).get("solution") or _meta(cell).get("task")):
        return CellScore(gid, None, _points(cell), "manual", MISSING_ANSWER)
    points = _points(cell) if cell is not None else Decimal(0)
    return CellScore(
        gid, Decimal(0), points, "not_run", "This cell was not in the graded notebook."
    )


def _score_cell(cell, index, meta, hidden, unreached, errors) -> CellScore:
    gid = grade_id(cell)
    maximum = Decimal(str(meta.get("points", 0)))
    if not meta.get("grade"):  # a task: nbgrader never scores one itself
        return CellScore(gid, None, maximum, "manual", "")
    if meta.get("solution") or cell.cell_type != "code":
        return _answer_score(cell, gid, maximum)
    if index in unreached or cell.get("execution_count") is None:
        reason = "This test did not run: the notebook stopped before reaching it."
        return CellScore(gid, Decimal(0), maximum, "not_run", reason)
    try:
        points, _ = (0, None) if index in errors else _determine_grade(cell)
    except ValueError:  # a test cell whose result is more than its points: no partial credit
        points = 0
    points = min(Decimal(str(points)), maximum).quantize(Decimal("0.001"))
    status = "passed" if points == maximum else "failed" if points == 0 else "partial"
    shown = text_of(cell.outputs, hidden=gid in hidden, visible=visible_part(cell.source))
    return CellScore(gid, points, maximum, status, shown)


NO_RESPONSE = "No answer: this cell is as it was handed out, so it scores 0, as in nbgrader."


def _answer_score(cell, gid: str, maximum: Decimal) -> CellScore:
    """An answer cell (a written answer, or code a TA reads): nbgrader's ``determine_grade`` scores
    it 0 when its checksum is the released one (the student never answered) and otherwise leaves
    it for a TA. The checksum compared is the release's, put back by ``restore``."""
    points, _ = _determine_grade(cell)
    if points is None:
        return CellScore(gid, None, maximum, "manual", "")
    return CellScore(gid, Decimal(0), maximum, "unanswered", NO_RESPONSE)


def _determine_grade(cell):
    from nbgrader.utils import determine_grade

    return determine_grade(cell)
