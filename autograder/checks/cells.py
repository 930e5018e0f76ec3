"""Reference checks in a notebook: one cell per check, run after the student's cells in the same
kernel (``check_cell``), or in place of an nbgrader grade cell that declares it (``cell_checks``);
and the student's code of a notebook as one file for the source scans (``student_code``), with
its places told back as cells and lines (``cell_lines``, ``in_cells``)."""

from __future__ import annotations

import ast
import json
import re
import tomllib

import nbformat

from autograder.checks.exchange import probe_spec
from autograder.checks.names import aliases_of
from autograder.checks.parsing import parse_one
from autograder.checks.registry import kind_of
from autograder.checks.spec import Check, CheckError

CELL_MARKER = "# [[checks]]"
EVENT = "autograder.check"  # what the sealed guard (guard.py) runs a check on


def cell_checks(notebook, *, first_index: int = 0) -> tuple[Check, ...]:
    """The checks written in a notebook's nbgrader grade cells, so that the instructor sees them
    where nbgrader puts tests. Such a cell holds only comments (it does nothing when a student runs
    it), the first being ``# [[checks]]`` and the rest one check's TOML, commented out (a line
    starting ``##`` is a note, a TOML comment)::

        # [[checks]]
        ## ELU against PyTorch's, values and gradients
        # kind = "function"
        # target = "elu"
        # reference = "torch.nn.functional.elu"
        # inputs = [[64]]

    Its name is the cell's ``grade_id`` and its points the cell's nbgrader points; its targets are
    the notebook's variables. It runs where the cell is, after the cells above it."""
    found = []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
        lines = str(cell.get("source", "")).strip().splitlines()
        if cell.get("cell_type") != "code" or not lines or lines[0].strip() != CELL_MARKER:
            continue
        where = f"cell {meta.get('grade_id') or '?'}"
        if not (meta.get("grade") and meta.get("grade_id")) or meta.get("solution"):
            raise CheckError(f"{where} declares a check but is not an nbgrader autograder test.")
        body = []
        for line in lines[1:]:
            text = line.strip()
            if text and not text.startswith("#"):
                raise CheckError(f"{where}: a check cell holds only comments; found {text!r}.")
            body.append(text[1:].removeprefix(" ") if text else "")
        try:
            entry = tomllib.loads("\n".join(body))
        except tomllib.TOMLDecodeError as exc:
            raise CheckError(f"{where}: its check is not valid TOML: {exc}") from exc
        if {"name", "points"} & set(entry):
            raise CheckError(
                f"{where}: the check's name and points are the cell's grade_id and points."
            )
        entry.update(name=meta["grade_id"], points=meta.get("points"))
        found.append(parse_one(entry, first_index + len(found), "__main__"))
    return tuple(found)


def check_cell(check: Check):
    """The cell appended to a notebook to run ``check`` on the student's variables."""
    spec = json.dumps(probe_spec(check))
    cell = nbformat.v4.new_code_cell(f"__import__('sys').audit({EVENT!r}, {spec!r})")
    cell.metadata["autograder"] = check_cell_meta(check)
    return cell


def check_cell_meta(check: Check) -> dict:
    """What nbrunner needs to know of a check's cell: its name, the inputs file it writes just
    before the cell runs, the outputs file it takes away as soon as the cell ends, and a time
    limit of the kind's own (``Kind.cell_timeout``: a training check's, past its budget, so that
    a slow training is told it was over its budget rather than stopped)."""
    meta = {"check": check.name, "inputs": check.files()[0], "outputs": check.files()[1]}
    timeout = kind_of(check).cell_timeout(check)
    if timeout is not None:
        meta["timeout"] = timeout
    return meta


def student_code(notebook) -> dict[str, bytes]:
    """The code of the cells the student wrote (solution cells and cells of their own), as one
    file for ``forbidden_uses``, with the plain imports of the instructor's cells (their aliases
    count); IPython's magics and shell lines are left out."""
    lines = []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
        instructors = meta.get("locked") or (meta.get("grade") and not meta.get("solution"))
        if cell.cell_type != "code":
            continue
        for line in str(cell.source).splitlines():
            if instructors:  # only its `import x as y`, so that the student's F.elu resolves
                line = line if line.startswith("import ") else ""
            lines.append("" if line.lstrip().startswith(("%", "!")) else line)
        lines.append("")
    return {"the notebook": "\n".join(lines).encode()}


def cell_lines(notebook) -> list[str]:
    """Where each line of ``student_code``'s text comes from, as the student would look for it:
    "cell gd, line 3" (the cell's nbgrader grade_id, else its number in the notebook)."""
    places = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
        name = meta.get("grade_id") or str(number)
        count = len(str(cell.source).splitlines())
        places += [f"cell {name}, line {line}" for line in range(1, count + 1)]
        places.append(f"cell {name}, after its last line")
    return places


def in_cells(messages: list[str], places: list[str]) -> list[str]:
    """``messages`` with "(the notebook, line N)" told as the cell and its line."""

    def where(match) -> str:
        line = int(match.group(1))
        return f"({places[line - 1]})" if 0 < line <= len(places) else match.group(0)

    return [re.sub(r"\(the notebook, line (\d+)\)", where, m) for m in messages]


def notebook_aliases(notebook) -> dict[str, str]:
    """The names every cell's imports bind (``from torch import nn`` in the instructor's)."""
    aliases: dict[str, str] = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(
            "" if line.lstrip().startswith(("%", "!")) else line
            for line in str(cell.source).splitlines()
        )
        try:
            aliases.update(aliases_of(ast.parse(source)))
        except (SyntaxError, ValueError):
            continue
    return aliases
