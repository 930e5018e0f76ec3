"""nbgrader-format notebooks: reading their cells' nbgrader metadata (``nbgrader_meta`` and the
accessors built on it: the one place that reads it), and the steps before a run:

``read`` (validate what was uploaded) → ``release_version`` (the student version, made by nbgrader's
own preprocessors) → ``restore`` (put back locked and test cells a student changed or deleted, with
the hidden tests). The run is ``autograder.execution``'s, scoring ``autograder.cell_scores``', and
the order of the steps ``autograder.notebook_pipeline``'s.

nbgrader itself is imported lazily: it pulls in jupyter_server (1.5 s), which only the worker needs.
"""

from __future__ import annotations

import ast
import copy
import hashlib
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


def nbgrader_meta(cell: NotebookNode) -> dict:
    """A cell's nbgrader metadata (``{}`` when it has none): the one place that reads it."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}  # a student can write anything there


def grade_id(cell: NotebookNode) -> str | None:
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def is_graded(cell: NotebookNode) -> bool:
    """A grade cell or a task: worth points, scored by the grader or by a TA."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade") or meta.get("task"))


def cell_points(cell: NotebookNode) -> Decimal:
    """What a cell is worth (its nbgrader ``points``; 0 when it has none or they are not a
    number)."""
    try:
        return Decimal(str(nbgrader_meta(cell).get("points") or 0))
    except ArithmeticError:
        return Decimal(0)


def is_test(cell: NotebookNode) -> bool:
    """An autograded test cell: code, graded, not a solution."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_manual(cell: NotebookNode) -> bool:
    """Graded by hand: a graded solution cell (a written answer or code a TA reads) or a task."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade") and meta.get("solution")) or bool(meta.get("task"))


def graded_cells(source: NotebookNode) -> list[NotebookNode]:
    """The grade and task cells the instructor made, in order: the only ones that are ever
    scored."""
    return [c for c in source.cells if grade_id(c) and is_graded(c)]


def graded_ids(source: NotebookNode) -> list[str]:
    return [grade_id(c) for c in graded_cells(source)]


def graded_points(source: NotebookNode) -> Decimal:
    """What a source notebook is worth: the points of its grade and task cells."""
    return sum((cell_points(c) for c in graded_cells(source)), Decimal(0))


def release_version(source: NotebookNode, *, name: str = "The notebook") -> NotebookNode:
    """The student version, the nbgrader way: solutions replaced by the stub, hidden tests and
    mark schemes removed, outputs cleared, cells locked, checksums recorded. A source nbgrader
    itself would refuse (``check_metadata``; a solution region outside a solution cell, one with
    no end) is a ``NotebookError`` that says why.

    Kept for the last few sources (a copy each time): every submission of an assignment restores
    against the same source, and nbgrader's checks validate each cell's metadata against a schema
    they check again each time (about 0.03 s of a warm grading's CPU)."""
    key = hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()
    released = _RELEASED.get(key)
    if released is None:
        released = _RELEASED[key] = _release_version(source, name)  # (an error is not kept)
        while len(_RELEASED) > RELEASES_KEPT:
            _RELEASED.pop(next(iter(_RELEASED)))
    return copy.deepcopy(released)


RELEASES_KEPT = 16
_RELEASED: dict[str, NotebookNode] = {}


def _release_version(source: NotebookNode, name: str) -> NotebookNode:
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
    steps = (
        CheckCellMetadata,
        LockCells,
        ClearSolutions,
        ClearOutput,
        ClearHiddenTests,
        ClearMarkScheme,
        ComputeChecksums,
    )
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
    found = []
    for cell in notebook.cells:
        gid = grade_id(cell)
        if not is_test(cell) or gid in besides or not cell_points(cell):
            continue
        try:
            body = ast.parse(str(cell.source)).body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # IPython syntax (magics) or a broken test: it runs and says so
        if all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in body):
            found.append(gid)
    return found


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
        if gid and (is_test(cell) or nbgrader_meta(cell).get("locked")):
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


def hidden_test_ids(source: NotebookNode) -> set[str]:
    """Test cells with a hidden part: their tracebacks would show it, so students get less."""
    return {grade_id(c) for c in source.cells if is_test(c) and "BEGIN HIDDEN TESTS" in c.source}
