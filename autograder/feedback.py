"""A graded notebook as its student may see it, cell by cell, for the feedback page.

Everything in the executed notebook came out of the student's kernel, so none of it is trusted:
HTML, JavaScript and other rich outputs are never passed on, text stays text (the template escapes
it), an image is passed on only as checked PNG bytes, and each cell's output is capped. The
instructor's cells are shown as the student version has them (``notebooks.release_version``),
never as they ran, since the run had the hidden tests in them; a hidden test's output is only what
``cell_text.text_of`` allows. Points and statuses are the run's (``selectors.feedback``): nothing
is scored here.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from nbformat import NotebookNode

from autograder import blobs, cell_text, notebooks, selectors
from autograder.models import AssignmentKind, FileRole, GradingRun, Submission, SubmissionState

MAX_CELL_OUTPUT_CHARS = 20_000
MAX_IMAGE_BYTES = 2 * 2**20
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A student's own output can quote a hidden test (it ran in the same kernel, from a file in the
# same folder): lines of hidden tests are blanked wherever they turn up. Shorter lines ("else:")
# are too common to look for.
MIN_HIDDEN_LINE = 10
HIDDEN_MARK = "[hidden test]"

# status → (what the student reads, the badge's class in site.css)
STATUS_LABELS = {
    "passed": ("passed", "state-graded"),
    "partial": ("partly passed", "state-queued"),
    "failed": ("failed", "state-failed"),
    "error": ("error", "state-failed"),
    "timeout": ("timed out", "state-failed"),
    "not_run": ("not run", "state-failed"),
    "unanswered": ("not answered", "state-failed"),
    "manual": ("waiting for a TA", "state-queued"),
}


@dataclass(frozen=True)
class Output:
    text: str = ""
    png_base64: str = ""  # a checked PNG, re-encoded; empty for a text output


@dataclass(frozen=True)
class CellView:
    kind: str  # markdown, code or raw
    source: str
    outputs: tuple[Output, ...] = ()
    error: str = ""  # the exception's name and message; its traceback where that may be shown
    cut: int = 0  # characters of output left out
    execution_count: int | None = None
    grade_id: str = ""  # empty for a cell that is not graded
    points: str | None = None  # None: not scored (yet)
    max_points: str = ""
    status: str = ""  # a key of STATUS_LABELS
    message: str = ""  # why a test did not run, or the TA's comment
    hidden: bool = False  # a test with hidden parts: its source and output are the student's part

    @property
    def status_label(self) -> str:
        if self.status == "manual" and self.points is not None:
            return "graded by hand"
        return STATUS_LABELS.get(self.status, (self.status, ""))[0]

    @property
    def badge(self) -> str:
        if self.status == "manual" and self.points is not None:
            return "state-graded"
        return STATUS_LABELS.get(self.status, ("", ""))[1]


@dataclass(frozen=True)
class NotebookFeedback:
    """One notebook of an assignment of several: its cells, named by their ids in it."""

    name: str
    cells: tuple[CellView, ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class Feedback:
    run: GradingRun | None
    cells: tuple[CellView, ...] = ()
    notes: tuple[str, ...] = ()
    problem: str = ""  # why the notebook is not shown, for the student; empty when it is
    notebooks: tuple[NotebookFeedback, ...] = ()  # of several notebooks: each (``cells`` empty)


def feedback_for_submission(*, submission: Submission) -> Feedback:
    """The latest grading of ``submission``, cell by cell, or why there is none to show."""
    run = selectors.latest_run(submission=submission)
    if run is None:
        return Feedback(None, problem=_not_graded(submission))
    rows = selectors.feedback(submission=submission, run=run)
    notes = tuple(str(note) for note in run.notes)
    if submission.state in (SubmissionState.QUEUED, SubmissionState.RUNNING):
        notes = ("This submission is being graded again; this is its previous grading.", *notes)
    if submission.assignment.kind != AssignmentKind.NOTEBOOK:  # files and a harness: tests only
        return Feedback(run, tuple(_row_cell(row, _unchanged) for row in rows), notes)
    sources = _source_files(submission)
    if len(sources) > 1:
        parts = tuple(_notebook_part(f, run, rows) for f in sources)
        return Feedback(run, notes=notes, notebooks=parts)
    source, executed = _source_notebook(submission), _executed_notebook(run)
    if source is None or executed is None:
        redact = _redactor(source) if source is not None else _unchanged
        cells = tuple(_row_cell(row, redact) for row in rows)
        return Feedback(run, cells, notes, _why_not_shown(source is None, run))
    return Feedback(run, tuple(notebook_cells(executed, source=source, rows=rows)), notes)


def _why_not_shown(no_source: bool, run: GradingRun) -> str:
    if no_source:
        return "The assignment's notebook could not be read, so only the points are shown."
    if not run.executed_sha256:
        return (
            "No executed notebook was kept from this grading (the notes above say why, where "
            "they can), so only the points of each test are shown."
        )
    return (
        "The executed notebook of this grading could not be read, so only the points of each "
        "test are shown."
    )


def _not_graded(submission: Submission) -> str:
    if submission.state == SubmissionState.FAILED:
        return (
            f"Grading submission #{submission.number} failed on our side, not because of your "
            "code; the course staff can grade it again."
        )
    if submission.state == SubmissionState.GRADED:
        return f"No grading of submission #{submission.number} was kept."
    return (
        f"Submission #{submission.number} has not been graded yet; its feedback appears here "
        "once it has."
    )


def _source_files(submission: Submission) -> list:
    files = submission.assignment.files.filter(role=FileRole.SOURCE, name__endswith=".ipynb")
    return list(files.order_by("name"))


def _source_notebook(submission: Submission) -> NotebookNode | None:
    sources = _source_files(submission)
    names = set(submission.files.values_list("name", flat=True))
    file = next((f for f in sources if f.name in names), sources[0] if sources else None)
    return None if file is None else _read_blob(file.sha256, "the assignment's source notebook")


def _notebook_part(file, run: GradingRun, rows: list[dict]) -> NotebookFeedback:
    """One notebook of several: the run's tests of it (``problem1/correct_squares``) under their
    ids in the notebook, shown on its executed cells."""
    prefix = notebooks.test_name(file.name, "")
    mine = [
        {**row, "name": row["name"][len(prefix) :]}
        for row in rows
        if row["name"].startswith(prefix)
    ]
    source = _read_blob(file.sha256, "the assignment's source notebook")
    sha256 = (run.executed_notebooks or {}).get(file.name)
    executed = _read_blob(sha256, "the executed notebook") if sha256 else None
    if source is None or executed is None:
        redact = _redactor(source) if source is not None else _unchanged
        problem = "" if sha256 else f"{file.name} did not run (the notes say why): its points only."
        return NotebookFeedback(file.name, tuple(_row_cell(r, redact) for r in mine), problem)
    return NotebookFeedback(file.name, tuple(notebook_cells(executed, source=source, rows=mine)))


def _executed_notebook(run: GradingRun) -> NotebookNode | None:
    if not run.executed_sha256:
        return None
    return _read_blob(run.executed_sha256, "the executed notebook")


def _read_blob(sha256: str, name: str) -> NotebookNode | None:
    try:
        return notebooks.read(blobs.get(sha256), name=name)
    except (OSError, ValueError):  # a missing blob, a bad sha, or NotebookError
        return None


def notebook_cells(
    executed: NotebookNode, *, source: NotebookNode, rows: list[dict]
) -> list[CellView]:
    """The cells of ``executed`` as the student may see them; ``rows``: the run's tests
    (``selectors.feedback``). A test the notebook lacks is listed after its cells."""
    release = {
        gid: cell
        for cell in notebooks.release_version(source).cells
        if (gid := notebooks.grade_id(cell))
    }
    hidden, redact = notebooks.hidden_test_ids(source), _redactor(source)
    by_id = {row["name"]: row for row in rows}
    views = []
    for cell in executed.cells:
        gid = notebooks.grade_id(cell)
        released = release.get(gid)
        shown = None if released is None or _is_solution(released) else released.source
        views.append(
            _cell_view(
                cell,
                gid=gid if released else None,
                row=by_id.pop(gid, None),
                shown_source=shown,
                hidden=gid in hidden,
                redact=redact,
            )
        )
    return views + [_row_cell(row, redact) for row in by_id.values()]


def _is_solution(cell: NotebookNode) -> bool:
    return bool(notebooks.nbgrader_meta(cell).get("solution"))


def _cell_view(cell, *, gid, row, shown_source, hidden, redact) -> CellView:
    source = shown_source if shown_source is not None else redact(_as_text(cell.get("source")))
    kind = cell.cell_type if cell.cell_type in ("markdown", "raw") else "code"
    outputs, error, cut = (), "", 0
    if kind == "code" and hidden:
        error = redact(cell_text.text_of(cell.get("outputs", []), hidden=True, visible=source))
    elif kind == "code":
        outputs, error, cut = _outputs(cell.get("outputs", []), redact)
    count = cell.get("execution_count") if kind == "code" else None
    count = count if isinstance(count, int) else None
    view = CellView(kind, source, outputs, error, cut, count, hidden=hidden and kind == "code")
    return _graded(view, row, cell) if gid and row else view


def _graded(view: CellView, row: dict, cell: NotebookNode) -> CellView:
    status = row["status"]
    if status == "failed":
        names = {o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"}
        status = "timeout" if "CellTimeout" in names else status
        status = "error" if names - {"AssertionError", "CellTimeout", None} else status
    # The cell's own output is shown already; the run's message adds only what it lacks: why the
    # test did not run, the TA's comment on a written answer, or a reference check's finding (a
    # check cell keeps no output: it is compared outside the notebook).
    is_check = bool(cell.get("metadata", {}).get("autograder", {}).get("check"))
    shows_why = status in ("manual", "not_run", "unanswered")
    message = (row.get("output") or "") if shows_why or is_check else ""
    return _with_points(view, row, status=status, message=message)


def _row_cell(row: dict, redact: Callable[[str], str]) -> CellView:
    """A test shown without its cell: no executed notebook, or the cell is not in it. Its message
    is the output stored with the run, which a student's exception may have written."""
    message = redact(row.get("output") or "")
    return _with_points(CellView("code", ""), row, status=row["status"], message=message)


def _with_points(view: CellView, row: dict, *, status: str, message: str) -> CellView:
    return replace(
        view,
        grade_id=row["name"],
        points=_number(row.get("score")),
        max_points=_number(row.get("max_score")) or "0",
        status=status,
        message=message,
    )


def _number(value) -> str | None:
    if value is None:
        return None
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except InvalidOperation:
        return str(value)


def _outputs(outputs: list, redact) -> tuple[tuple[Output, ...], str, int]:
    """A code cell's outputs as text and checked images, at most MAX_CELL_OUTPUT_CHARS of text."""
    shown, errors, budget, cut = [], [], MAX_CELL_OUTPUT_CHARS, 0
    for output in outputs:
        kind, data = output.get("output_type"), output.get("data") or {}
        png = _png(data.get("image/png")) if kind in ("execute_result", "display_data") else ""
        if png:
            shown.append(Output(png_base64=png))
            continue
        text = redact(cell_text.strip_ansi(_output_text(kind, output, data)))
        kept = text[:budget]
        budget, cut = budget - len(kept), cut + len(text) - len(kept)
        if kept and kind == "error":
            errors.append(kept)
        elif kept and shown and shown[-1].text:  # one block for consecutive text
            shown[-1] = Output(text=shown[-1].text + kept)
        elif kept:
            shown.append(Output(text=kept))
    return tuple(shown), "\n".join(errors), cut


def _output_text(kind, output, data) -> str:
    if kind == "stream":
        text = _as_text(output.get("text"))
    elif kind == "error":
        traceback = _as_text(output.get("traceback"), joiner="\n")
        text = traceback or f"{_as_text(output.get('ename'))}: {_as_text(output.get('evalue'))}"
    elif kind in ("execute_result", "display_data"):
        text = _as_text(data.get("text/plain")) or _not_shown(data)
    else:
        return ""
    if kind == "stream" or not text or text.endswith("\n"):  # printed text stays as printed
        return text
    return text + "\n"


def _not_shown(data: dict) -> str:
    kinds = ", ".join(str(kind)[:60] for kind in list(data)[:3])
    return f"(an output of type {kinds}: not shown here)" if kinds else ""


def _as_text(value, *, joiner: str = "") -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return joiner.join(v for v in value if isinstance(v, str))
    return ""


def _png(value) -> str:
    """``value`` re-encoded if it is base64 of a PNG of at most MAX_IMAGE_BYTES, else empty."""
    text = _as_text(value)
    if not text or len(text) > MAX_IMAGE_BYTES * 2:
        return ""
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return ""
    if len(data) > MAX_IMAGE_BYTES or not data.startswith(PNG_SIGNATURE):
        return ""
    return base64.b64encode(data).decode("ascii")


def _redactor(source: NotebookNode) -> Callable[[str], str]:
    """Blank the lines of ``source``'s hidden tests (their markers too), as written and as quoted
    in JSON."""
    lines = set()
    for cell in source.cells:
        if notebooks.is_test(cell):
            lines |= _hidden_lines(cell.source)
    needles = {form for line in lines for form in (line, json.dumps(line)[1:-1])}
    ordered = sorted(needles, key=len, reverse=True)

    def redact(text: str) -> str:
        for needle in ordered:
            text = text.replace(needle, HIDDEN_MARK)
        return text

    return redact


def _unchanged(text: str) -> str:
    return text


def _hidden_lines(source: str) -> set[str]:
    found, inside = set(), False
    for line in source.splitlines():
        stripped = line.strip()
        if "BEGIN HIDDEN TESTS" in stripped:
            inside = True
        if inside and len(stripped) >= MIN_HIDDEN_LINE:
            found.add(stripped)
        if "END HIDDEN TESTS" in stripped:
            inside = False
    return found
