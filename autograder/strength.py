"""Check strength: can each reference check see the mistakes it exists for?

``report(folder)`` takes an assignment's source folder (the nbgrader source notebook, its
``autograder.toml``, ``*_reference.py`` and data files), makes mutants of the reference solution
(``autograder.mutants``) and runs the assignment's checks on each, the same comparison as a
grading (``checks.reference`` against the reference's outputs) but in this process: the mutants are
the author's own code, as trusted as the reference files the worker already runs. A mutant that
no check catches *survives*; the report lists, per check, the survivors in the code it checks.

Some survivors are equivalent (a mutation that changes nothing observable) or a difference no
check needs to see: the author accepts each with a reason, in ``autograder.toml``::

    [[accepted]]
    mutant = "Adam.step: state['t'] += 1 -> state['t'] += 0"   # the id the report prints
    why = "..."

Training checks (scored by accuracy) are not mutated: a slightly different training loop is
still a right one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from autograder import mutants, notebooks, probes
from autograder.checks.cells import cell_checks as checks_in_cells
from autograder.checks.exchange import probe_spec
from autograder.checks.inputs import make_inputs
from autograder.checks.parsing import parse_toml
from autograder.checks.reference import problem, reference_outputs
from autograder.checks.registry import kind_of
from autograder.checks.spec import Check

MUTANT_SECONDS = 20  # a mutant that loops for ever is caught, not waited for


@dataclass
class Report:
    assignment: str
    mutants: int = 0
    survivors: dict[str, list[str]] = field(default_factory=dict)  # check -> mutant ids
    accepted: dict[str, str] = field(default_factory=dict)  # mutant id -> why
    stale: list[str] = field(default_factory=list)  # accepted, but caught or no longer made
    broken: list[str] = field(default_factory=list)  # checks the reference solution fails

    @property
    def unexplained(self) -> dict[str, list[str]]:
        return {check: ids for check, ids in self.survivors.items() if ids}

    def text(self) -> str:
        lines = [f"{self.assignment}: {self.mutants} mutants of the reference solution."]
        lines += [f"  The reference solution fails check {name!r}." for name in self.broken]
        for check, ids in sorted(self.survivors.items()):
            lines.append(f"  {check}: {len(ids)} not caught" + (":" if ids else "."))
            lines += [f"    - {i}" for i in ids]
        lines += [f"  accepted: {i} ({why})" for i, why in sorted(self.accepted.items())]
        lines += [f"  accepted but no longer surviving: {i}" for i in self.stale]
        return "\n".join(lines)


@dataclass
class _Assignment:
    name: str
    cells: list[str]  # the code cells that define things, in order (solution and setup)
    solution: list[int]  # which of ``cells`` hold solution regions
    checks: tuple[Check, ...]
    accepted: dict[str, str]
    private: dict[str, bytes]
    data: dict[str, bytes]


def report(folder: Path) -> Report:
    assignment = _load(Path(folder))
    result = Report(assignment.name)
    runnable = [c for c in assignment.checks if kind_of(c).mutation_tested]
    skip = frozenset(c.target_name for c in assignment.checks if not kind_of(c).mutation_tested)
    with _in_data_folder(assignment.data):
        prepared = {c.name: _prepare(c, assignment) for c in runnable}
        base = _namespace(assignment.cells)
        result.broken = [c.name for c in runnable if not _passes(c, base, prepared[c.name])]
        survivors: dict[str, list[str]] = {c.name: [] for c in runnable}
        made = set()
        for index in assignment.solution:
            cell_checks = [c for c in runnable if _defines(assignment.cells[index], c.target_name)]
            for mutant in mutants.of_cell(assignment.cells[index], skip=skip):
                made.add(mutant.id)
                result.mutants += 1
                cells = [*assignment.cells]
                cells[index] = mutant.source
                relevant = _relevant(mutant.definition, cell_checks, base)
                if relevant and not _caught(cells, cell_checks, prepared):
                    for check in relevant:
                        survivors[check.name].append(mutant.id)
    for name, ids in survivors.items():
        result.survivors[name] = [i for i in ids if i not in assignment.accepted]
        result.accepted.update({i: assignment.accepted[i] for i in ids if i in assignment.accepted})
    result.stale = sorted(set(assignment.accepted) - set(result.accepted))
    return result


def _load(folder: Path) -> _Assignment:
    [source] = sorted(folder.glob("*.ipynb"))
    notebook = notebooks.read(source.read_bytes())
    spec = folder / "autograder.toml"
    raw = tomllib.loads(spec.read_text()) if spec.exists() else {}
    found = parse_toml(spec.read_bytes()) if spec.exists() else ()
    found += checks_in_cells(notebook, first_index=len(found))
    cells, solution = [], []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
        if cell.cell_type != "code" or not _defines_things(cell.source, meta):
            continue
        if meta.get("solution"):
            solution.append(len(cells))
        cells.append(str(cell.source))
    accepted = {str(a["mutant"]): str(a.get("why", "")) for a in raw.get("accepted", [])}
    return _Assignment(
        folder.name,
        cells,
        solution,
        found,
        accepted,
        {f.name: f.read_bytes() for f in folder.glob("*_reference.py")},
        {f.name: f.read_bytes() for f in folder.glob("*.safetensors")},
    )


def _defines_things(source: str, meta: dict) -> bool:
    """A solution cell, or an instructor's cell of imports and definitions only (not a cell that
    tries things out, nor a check cell)."""
    import ast

    if meta.get("solution"):
        return True
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    kinds = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign)
    return bool(body) and all(isinstance(node, kinds) for node in body)


def _defines(source: str, name: str) -> bool:
    import ast

    return any(
        isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name
        for node in ast.parse(source).body
    )


@contextlib.contextmanager
def _in_data_folder(data: dict[str, bytes]):
    """The data files where the notebook's code opens them: the working directory."""
    before = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="strength-") as folder:
        for name, content in data.items():
            Path(folder, name).write_bytes(content)
        os.chdir(folder)
        try:
            yield
        finally:
            os.chdir(before)


def _namespace(cells: list[str]) -> dict:
    namespace: dict = {"__name__": "__main__"}
    for source in cells:
        exec(compile(source, "<reference solution>", "exec"), namespace)  # the author's code
    return namespace


def _prepare(check: Check, assignment: _Assignment) -> dict:
    inputs = make_inputs(check, assignment.private, assignment.data)
    expected = None
    if kind_of(check).has_reference:
        expected = reference_outputs(check, inputs, device="cpu", private=assignment.private)
    return {
        "inputs": inputs,
        "expected": expected,
        "spec": probe_spec(check),
        "private": assignment.private,
    }


def _passes(check: Check, namespace: dict, prepared: dict) -> bool:
    """The check's probe on the namespace's target, compared as a grading compares."""
    import torch

    kind = kind_of(check)
    spec = kind.with_objects(check, dict(prepared["spec"]), namespace.__getitem__)
    inputs = {k: v.clone() for k, v in prepared["inputs"].items()}
    try:
        torch.manual_seed(check.seed)
        outputs = probes.PROBES[kind.probe](namespace[check.target_name], inputs, spec)
        actual = {k: v.detach().cpu() for k, v in outputs.items()}
    except Exception:
        return False
    found = problem(
        check,
        prepared["inputs"],
        actual,
        device="cpu",
        private=prepared["private"],
        expected=prepared["expected"],
    )
    return not found


def _caught(cells: list[str], cell_checks, prepared: dict) -> bool:
    def stop(*_):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(MUTANT_SECONDS)
    try:
        namespace = _namespace(cells)
        return not all(_passes(c, namespace, prepared[c.name]) for c in cell_checks)
    except Exception:
        return True  # it does not even define what the checks take
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _relevant(definition: str, cell_checks, namespace: dict) -> list[Check]:
    """The checks of the code a mutant changed: its own definition's, else those whose target
    is built on it (a subclass) or calls it; else every check of its cell."""
    own = [c for c in cell_checks if c.target_name == definition]
    if own:
        return own
    changed = namespace.get(definition)
    users = []
    for check in cell_checks:
        target = namespace.get(check.target_name)
        subclass = isinstance(target, type) and isinstance(changed, type)
        if (subclass and issubclass(target, changed)) or definition in getattr(
            getattr(target, "__code__", None), "co_names", ()
        ):
            users.append(check)
    return users or list(cell_checks)
