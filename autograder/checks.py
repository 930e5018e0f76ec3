"""Reference checks: compare a student's function, module, optimizer or scheduler with PyTorch's.

An assignment declares them in its ``autograder.toml`` beside (or instead of) harness tests::

    [[checks]]
    name = "ELU"
    kind = "function"                  # function | module | optimizer | scheduler
    target = "activations:elu"         # module:attribute among the student's files
    reference = "torch.nn.functional.elu"   # a dotted path, or "private_file:attribute"
    points = 1
    inputs = [[4, 5]]                  # function: one shape per positional argument
    dtype = "float64"                  # default float32
    kwargs = {alpha = 1.0}             # function: keyword arguments to both
    gradients = true                   # compare gradients through autograd
    forbid = ["torch.nn.functional.elu", "torch.nn.ELU"]
    seed = 7                           # default: the check's position
    rtol = 1e-5                        # default: by dtype, as torch.testing.assert_close
    atol = 1e-8

module: ``init`` (constructor keyword arguments to both), ``inputs = [[batch, features]]``,
``parameters`` and ``buffers`` (names set from the same seeded values in both, then compared),
``modes = ["train", "eval"]``. optimizer: ``init`` (hyperparameters), ``shapes`` of the parameters,
``steps``. scheduler: ``init``, ``lr`` (the optimizer's), ``epochs``. network: a function that
takes a given network, such as one that freezes its lower layers or replaces its head:
``network`` (the class, defined in the student's module and in the reference's), ``weights`` (a
safetensors data file of the assignment), ``frozen`` (start with every parameter frozen),
``calls`` (call it that many times on the same network), ``forward`` (the shape of an input run
through the network it returns), ``inputs`` (shapes of further tensor arguments), ``kwargs``, or
``cases`` (a list of keyword arguments: each case starts from a fresh network).

The worker makes the inputs (seeded, with edge values), the sandbox runs the student's object on
them (``probes.py``) and returns tensors as safetensors, and the worker runs the reference here,
never next to the student's code, on CUDA when it has one (TF32 off, deterministic algorithms on),
and compares stage by stage: the student's code ran, then shape, dtype and values. The feedback
names the first failing stage; for values, the first mismatching index, the expected and actual
values there, and the largest absolute and relative errors. Forbidden APIs are looked for in the
source before anything runs (``forbidden_uses``) and trapped while the check runs.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import hmac
import importlib
import importlib.util
import math
import tempfile
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

from autograder import families

KINDS = ("function", "module", "optimizer", "scheduler", "statistical", "training", "network")
DATASETS = ("digits",)
DTYPES = ("float32", "float64", "float16", "bfloat16")
# torch.testing.assert_close's defaults, by dtype.
TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}
EDGE_VALUES = (0.0, 1e-3, -1e-3, 10.0, -10.0, 50.0, -50.0)


class CheckError(ValueError):
    """A check in the spec that cannot be run; the message says which and why."""


@dataclass(frozen=True)
class Check:
    index: int
    name: str
    kind: str
    target: str  # module:attribute
    reference: str
    points: Decimal
    seed: int
    dtype: str = "float32"
    inputs: tuple[tuple[int, ...], ...] = ()
    kwargs: dict = field(default_factory=dict)
    init: dict = field(default_factory=dict)
    gradients: bool = False
    edge_values: bool = True  # function inputs start with EDGE_VALUES (0 has no derivative in ReLU)
    forbid: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()  # relatives of a forbidden API that this check allows after all
    parameters: tuple[str, ...] = ()
    buffers: tuple[str, ...] = ()
    modes: tuple[str, ...] = ("train", "eval")
    steps: int = 5
    lr: float = 0.1
    epochs: int = 10
    metrics: tuple[float, ...] = ()  # scheduler: the loss passed to step() each epoch
    rtol: float | None = None
    atol: float | None = None
    hidden: bool = False
    tolerance: float = 0.01  # statistical: how far the fraction dropped may be from p
    # training: the data set (its classes, relabelled 0..k-1), the split, the time to train,
    # and [accuracy, points] pairs: the most points whose accuracy the model reaches
    dataset: str = "digits"
    classes: tuple[int, ...] = ()
    train_fraction: float = 0.7
    time_budget: float = 30.0
    thresholds: tuple[tuple[float, Decimal], ...] = ()
    # network: the class its target takes an instance of, the data file of its weights, whether
    # it starts frozen, how often the target is called, and the shape of a probe of its output
    network: str = ""
    weights: str = ""
    frozen: bool = False
    calls: int = 1
    forward: tuple[int, ...] = ()
    cases: tuple[dict, ...] = ()  # network: keyword arguments of each case (else kwargs, once)

    def tolerances_for(self, dtype: str) -> tuple[float, float]:
        """The author's tolerances, else torch.testing's for ``dtype`` (the compared tensor's:
        a learning rate is float64 whatever the check's dtype)."""
        rtol, atol = TOLERANCES.get(dtype, TOLERANCES[self.dtype])
        return (self.rtol if self.rtol is not None else rtol), (
            self.atol if self.atol is not None else atol
        )

    @property
    def forbidden(self) -> families.Forbidden:
        """``forbid`` with each API's relatives (``autograder.families``), less ``allow``."""
        return families.expand(self.forbid, self.allow)

    @property
    def target_name(self) -> str:
        return self.target.partition(":")[2]

    def files(self) -> tuple[str, str]:
        return f"check-{self.index}-in.safetensors", f"check-{self.index}-out.safetensors"


def parse(entries, *, default_module: str) -> tuple[Check, ...]:
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise CheckError("[[checks]] must be a list of tables.")
    return tuple(_parse_one(entry, i, default_module) for i, entry in enumerate(entries))


def _parse_one(entry, index: int, default_module: str) -> Check:
    if not isinstance(entry, dict):
        raise CheckError(f"check {index + 1} is not a table.")
    name = str(entry.get("name", "")).strip()
    if not name:
        raise CheckError(f"check {index + 1} has no name.")
    known = set(Check.__dataclass_fields__) - {"index"}
    unknown = set(entry) - known
    if unknown:
        raise CheckError(f"check {name!r}: unknown keys {sorted(unknown)}.")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise CheckError(f"check {name!r}: kind must be one of {', '.join(KINDS)}.")
    target = str(entry.get("target", ""))
    if ":" not in target:
        target = f"{default_module}:{target}"
    module, _, attr = target.partition(":")
    if not (module.isidentifier() and attr.isidentifier()):
        raise CheckError(f"check {name!r}: target must be module:attribute.")
    dtype = entry.get("dtype", "float32")
    if dtype not in DTYPES:
        raise CheckError(f"check {name!r}: dtype must be one of {', '.join(DTYPES)}.")
    points = positive_points(entry.get("points"))
    if points is None:
        raise CheckError(f"check {name!r} needs points greater than 0.")
    values = dict(entry)
    values.update(
        index=index, name=name, kind=kind, target=target, points=points, dtype=dtype,
        reference=str(entry.get("reference", "")), seed=int(entry.get("seed", index)),
        inputs=tuple(tuple(int(n) for n in shape) for shape in entry.get("inputs", [])),
        forbid=tuple(entry.get("forbid", [])), allow=tuple(entry.get("allow", [])),
        parameters=tuple(entry.get("parameters", [])), buffers=tuple(entry.get("buffers", [])),
        modes=tuple(entry.get("modes", ["train", "eval"])),
        metrics=tuple(float(m) for m in entry.get("metrics", [])),
    )  # fmt: skip
    if "shapes" in entry:
        raise CheckError(f"check {name!r}: give parameter shapes as inputs.")
    if kind in ("function", "module", "optimizer", "statistical") and not values["inputs"]:
        raise CheckError(f"check {name!r}: inputs must give at least one shape.")
    if kind == "training":
        values["classes"] = tuple(int(c) for c in entry.get("classes", []))
        values["thresholds"] = _thresholds(entry.get("thresholds"), name, points)
        if entry.get("dataset", "digits") not in DATASETS:
            raise CheckError(f"check {name!r}: dataset must be one of {', '.join(DATASETS)}.")
        return Check(**values)
    if kind == "network":
        _network_fields(values, name)
    if kind == "statistical":
        p = {**values.get("init", {}), **values.get("kwargs", {})}.get("p")
        if not isinstance(p, int | float) or not 0 <= p < 1:
            raise CheckError(f"check {name!r}: a statistical check needs p (0 <= p < 1).")
    elif not values["reference"]:
        raise CheckError(f"check {name!r} names no reference.")
    return Check(**values)


def _network_fields(values: dict, name: str) -> None:
    network, weights = str(values.get("network", "")), str(values.get("weights", ""))
    if not network.isidentifier():
        raise CheckError(f"check {name!r}: network must name the class (defined in both modules).")
    if ":" not in values["reference"]:
        raise CheckError(f"check {name!r}: a network check's reference is in a private file.")
    if weights and (not weights.endswith(".safetensors") or "/" in weights):
        raise CheckError(f"check {name!r}: weights must name a .safetensors file beside it.")
    calls = values.get("calls", 1)
    if not isinstance(calls, int) or not 1 <= calls <= 20:
        raise CheckError(f"check {name!r}: calls must be a whole number, 1-20.")
    if not isinstance(values.get("frozen", False), bool):
        raise CheckError(f"check {name!r}: frozen is true or false.")
    values["forward"] = tuple(int(n) for n in values.get("forward", []))
    cases = values.get("cases", [])
    if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases) or len(cases) > 8:
        raise CheckError(f"check {name!r}: cases must be a list of up to 8 tables of arguments.")
    values["cases"] = tuple(cases)


def parse_toml(data: bytes, *, default_module: str = "__main__") -> tuple[Check, ...]:
    """The ``[[checks]]`` of an ``autograder.toml`` that sits beside a notebook (their targets
    are the notebook's variables)."""
    import tomllib

    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CheckError(f"not valid TOML: {exc}") from exc
    unknown = set(raw) - {"checks", "accepted"}  # [[accepted]]: mutants (autograder.strength)
    if unknown:
        raise CheckError(
            f"beside a notebook only [[checks]] and [[accepted]] are read, not {sorted(unknown)}."
        )
    found = parse(raw.get("checks"), default_module=default_module)
    names = [c.name for c in found]
    if len(set(names)) != len(names):
        raise CheckError("check names must be unique.")
    return found


# In a notebook: one cell per check, run after the student's cells, in the same kernel, or in
# place of an nbgrader grade cell that declares it

CELL_MARKER = "# [[checks]]"


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
    import tomllib

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
            raise CheckError(f"{where}: the check's name and points are the cell's grade_id and "
                             "points.")  # fmt: skip
        entry.update(name=meta["grade_id"], points=meta.get("points"))
        found.append(_parse_one(entry, first_index + len(found), "__main__"))
    return tuple(found)


def check_cell(check: Check):
    """The cell appended to a notebook to run ``check`` on the student's variables."""
    import json

    import nbformat

    spec = json.dumps(probe_spec(check))
    cell = nbformat.v4.new_code_cell(f"__import__('sys').audit({EVENT!r}, {spec!r})")
    cell.metadata["autograder"] = check_cell_meta(check)
    return cell


EVENT = "autograder.check"  # what the sealed guard (guard.py) runs a check on
CHECK_MARGIN = 30  # seconds a training check's cell gets beyond its budget: loading, predicting


def check_cell_meta(check: Check) -> dict:
    """What nbrunner needs to know of a check's cell: its name, the inputs file it writes just
    before the cell runs, the outputs file it takes away as soon as the cell ends, and (training)
    a time limit past the budget, so that a slow training is told it was over its budget rather
    than stopped."""
    meta = {"check": check.name, "inputs": check.files()[0], "outputs": check.files()[1]}
    if check.kind == "training":
        meta["timeout"] = int(check.time_budget) + CHECK_MARGIN
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
    import re

    def where(match) -> str:
        line = int(match.group(1))
        return f"({places[line - 1]})" if 0 < line <= len(places) else match.group(0)

    return [re.sub(r"\(the notebook, line (\d+)\)", where, m) for m in messages]


def _thresholds(raw, name: str, points: Decimal) -> tuple[tuple[float, Decimal], ...]:
    try:
        pairs = tuple((float(acc), positive_points(pts)) for acc, pts in raw)
    except (TypeError, ValueError):
        pairs = ()
    if not pairs or any(p is None or p > points or not 0 < a <= 1 for a, p in pairs):
        raise CheckError(
            f"check {name!r}: thresholds must be [accuracy, points] pairs, accuracy in (0, 1], "
            "points up to the check's."
        )
    return tuple(sorted(pairs, reverse=True))


def reference_files(found) -> set[str]:
    """The instructor's files that ``found`` checks take their references from ("file:attr"):
    kept from students, never put into the sandbox."""
    return {f"{c.reference.partition(':')[0]}.py" for c in found if ":" in c.reference}


def weights_files(found) -> set[str]:
    """The data files that ``found`` checks load their networks' weights from."""
    return {c.weights for c in found if c.weights}


def positive_points(value) -> Decimal | None:
    """``value`` as points, if it is a number greater than 0."""
    try:
        points = Decimal(str(value))
    except InvalidOperation:
        return None
    return points if points.is_finite() and points > 0 else None


# Forbidden APIs in the source


def forbidden_uses(sources: dict[str, bytes], forbidden, *, target: str | None = None) -> list[str]:
    """Where the student's files name a forbidden API or one of its relatives
    (``autograder.families``), as "name (file, line N)"; ``forbidden``: a check's
    ``Check.forbidden``, or names (widened to their families here).

    Anywhere in a file: an import of it (``from torch.nn.functional import elu``) or a name bound
    to it (``_elu = F.elu``, ``class Adam(torch.optim.Adam)``), under any module path that is the
    same object (``torch.optim.adam.Adam`` is ``torch.optim.Adam``), or its aten operator
    (``torch.ops.aten.relu``). Plain uses (``torch.relu(x)``, ``F.elu`` after ``import
    torch.nn.functional as F``): only in the body of ``target``, the function or class under
    check, where a file defines it at the top level (``torch.relu`` in another function is no
    concern of this check; one reached through a helper is still trapped at run time)."""
    if not isinstance(forbidden, families.Forbidden):
        forbidden = families.expand(tuple(forbidden))
    if not forbidden.python:
        return []
    found = []
    for filename, content in sources.items():
        if not filename.endswith(".py") and filename != "the notebook":
            continue
        try:
            tree = ast.parse(content, filename=filename)
        except (SyntaxError, ValueError):
            continue
        found += _uses_in(tree, filename, forbidden, target)
    return sorted(set(found))


def _uses_in(tree, filename: str, forbidden: families.Forbidden, target: str | None) -> list[str]:
    aliases = _aliases(tree)
    found = []

    def hit(node, dotted: str) -> None:
        head, _, rest = dotted.partition(".")
        name = _matches(aliases.get(head, head) + (f".{rest}" if rest else ""), forbidden)
        if name:
            found.append(f"{forbidden.label(name)} ({filename}, line {node.lineno})")

    for node in ast.walk(tree):  # bindings, anywhere
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for item in node.names:
                hit(node, f"{node.module}.{item.name}")
        elif isinstance(node, ast.Import):
            for item in node.names:
                hit(node, item.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr) and node.value:
            # the object itself bound to a name (a call's result is no concern of this)
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            for dotted in filter(None, map(_dotted, values)):
                hit(node, dotted)
        elif isinstance(node, ast.ClassDef):
            for dotted in filter(None, map(_dotted, node.bases)):
                hit(node, dotted)
    for node in ast.walk(_definition(tree, target) or tree):  # uses, in the target
        dotted = _dotted(node)
        if dotted is not None and not isinstance(getattr(node, "ctx", None), ast.Store):
            hit(node, dotted)
    return found


# Changing torch or the checks' own code: found in the source, and then every check scores 0

PROTECTED = ("torch", "probes", "sys.modules", "builtins")
# Settings a student may change: cudnn.deterministic, TF32, the compiler's configuration.
UNPROTECTED = ("torch.backends.", "torch._dynamo.config.", "torch._inductor.config.")


def tampering(sources: dict[str, bytes], *, aliases: dict[str, str] | None = None) -> list[str]:
    """Where the student's code changes torch, the checks' module (``probes``) or the import
    system, as "what (file, line N)": an assignment to or deletion of an attribute or item under
    them (``torch.relu = ...``, ``nn.Module.named_parameters = ...``, ``sys.modules[...] = ...``),
    or ``setattr``/``delattr`` on them. Names are resolved as Python would: an import's alias
    (``aliases``: the instructor's cells' imports too), or a name bound to such a path; a local
    variable of the same name (``F`` a tensor inside a function) is that variable. What escapes
    this (names reached through ``getattr``) meets the probes' own copies of what they read,
    taken before the student's code ran."""
    found = []
    for filename, content in sources.items():
        try:
            tree = ast.parse(content, filename=filename)
        except (SyntaxError, ValueError):
            continue
        paths = _bound_to_paths(tree, aliases or {})
        names = {**(aliases or {}), **_aliases(tree), **paths}
        shadowed = _module_level_names(tree) - set(paths)  # rebound to something else
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node, target in _changed(tree):
            dotted = _dotted(target)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            if head in shadowed or head in _locals_around(node, parents):
                continue
            full = names.get(head, head) + (f".{rest}" if rest else "")
            if _protected(full):
                found.append(f"{full} ({filename}, line {node.lineno})")
    return sorted(set(found))


def _bound_to_paths(tree, aliases: dict[str, str]) -> dict[str, str]:
    """Module-level names bound to a dotted path (``F = torch.nn.functional``), resolved."""
    names = {**aliases, **_aliases(tree)}
    bound = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, dotted = node.targets[0], _dotted(node.value)
            if isinstance(target, ast.Name) and dotted is not None:
                head, _, rest = dotted.partition(".")
                bound[target.id] = names.get(head, head) + (f".{rest}" if rest else "")
    return bound


def _module_level_names(tree) -> set[str]:
    """Names the module binds other than by import: variables that may shadow an alias."""
    return _scope_names(tree.body)


def _scope_names(body) -> set[str]:
    """The names a scope binds (assignments, loops, arguments, definitions), not nested ones."""
    names: set[str] = set()
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        stack.extend(ast.iter_child_nodes(node))
    return names


def _locals_around(node, parents: dict) -> set[str]:
    """The local names of every function around ``node`` (less those it declares global)."""
    names: set[str] = set()
    current = parents.get(node)
    while current is not None:
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            declared = {n for g in ast.walk(current) if isinstance(g, ast.Global) for n in g.names}
            body = current.body if isinstance(current.body, list) else [current.body]
            names |= _scope_names([*body, current.args]) - declared
        current = parents.get(current)
    return names


def _changed(tree):
    """(statement, what it changes) for each assignment, deletion, setattr and delattr."""
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("setattr", "delattr") and node.args):  # fmt: skip
            yield node, node.args[0]
        for target in targets:
            for item in target.elts if isinstance(target, ast.Tuple | ast.List) else [target]:
                if isinstance(item, ast.Subscript):
                    yield node, item.value
                elif isinstance(item, ast.Attribute):
                    yield node, item


def _protected(full: str) -> bool:
    if full.startswith(UNPROTECTED):
        return False
    return any(full == name or full.startswith(name + ".") for name in PROTECTED)


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
            aliases.update(_aliases(ast.parse(source)))
        except (SyntaxError, ValueError):
            continue
    return aliases


def _definition(tree, name: str | None):
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    matches = [n for n in tree.body if isinstance(n, defs) and n.name == name] if name else []
    return matches[-1] if matches else None  # the last definition is the one that counts


def _aliases(tree) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for item in node.names:
                if item.asname:
                    aliases[item.asname] = item.name
                else:
                    head = item.name.split(".")[0]
                    aliases[head] = head
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for item in node.names:
                aliases[item.asname or item.name] = f"{node.module}.{item.name}"
    return aliases


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _matches(full: str, forbidden: families.Forbidden) -> str | None:
    """The forbidden name that ``full`` is: the same dotted name or below it, the same object
    under another torch module path, or its aten operator (by its name in ``forbidden.aten``)."""
    for name in forbidden.python:
        if full == name or full.startswith(name + "."):
            return name
    if not full.startswith("torch."):
        return None
    parts = full.split(".")
    if parts[:3] == ["torch", "ops", "aten"] and len(parts) >= 4:
        op = parts[3]
        for candidate in (op, op.removesuffix("_")):
            if candidate in forbidden.aten:
                return candidate
    obj = _torch_object(full)
    if obj is not None:
        for name in forbidden.python:
            if _torch_object(name) is obj:
                return name
    return None


@functools.cache
def _torch_object(dotted: str):
    """What a ``torch.``… name is, for comparing by identity; None if it is no such thing. Only
    torch's own modules are ever imported here."""
    parts = dotted.split(".")
    if parts[0] != "torch" or len(parts) > 8:
        return None
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except Exception:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj if callable(obj) else None
    return None


# Inputs (made here, seeded)


def salted(check: Check, students: dict[str, bytes], key: bytes) -> Check:
    """The check with the seed its inputs are made from for this submission: the author's seed
    mixed, under ``key`` (the site's secret), with the submission's own files. A student who knows
    how inputs are made (this file is public) still cannot compute them ahead of the check and
    answer from a table made with a forbidden function; the same files get the same inputs, so
    grading them again gives the same result. A training check keeps its seed: its held-out part
    never enters the sandbox, and its split must not move between gradings."""
    if check.kind == "training":
        return check
    mixed = hmac.new(key, f"{check.name}\0{check.seed}".encode(), hashlib.sha256)
    for name in sorted(students):
        mixed.update(hashlib.sha256(name.encode() + b"\0" + students[name]).digest())
    return replace(check, seed=int.from_bytes(mixed.digest()[:4], "big") >> 1)


def make_inputs(
    check: Check, private: dict[str, bytes] | None = None, data: dict[str, bytes] | None = None
) -> dict:
    """The tensors the student's object and the reference both get (``data``: the assignment's
    data files, where a network's weights are)."""
    import torch

    generator = torch.Generator().manual_seed(check.seed)
    dtype = getattr(torch, check.dtype)

    def randn(shape, edges=False):
        values = torch.randn(shape, generator=generator, dtype=torch.float64)
        if edges and values.numel():
            flat = values.view(-1)
            count = min(len(EDGE_VALUES), flat.numel())
            flat[:count] = torch.tensor(EDGE_VALUES[:count], dtype=torch.float64)
        return values.to(dtype)

    tensors = {}
    if check.kind == "network":
        for i, shape in enumerate(check.inputs):
            tensors[f"arg{i}"] = randn(shape)
        if check.forward:
            tensors["forward"] = randn(check.forward)
        if check.weights:
            tensors.update(_weights(check, {**(data or {}), **(private or {})}))
    elif check.kind == "function":
        for i, shape in enumerate(check.inputs):
            tensors[f"arg{i}"] = randn(shape, edges=check.edge_values)
    elif check.kind == "module":
        shape = check.inputs[0]
        tensors["x"] = randn(shape) * 2 + 0.5
        tensors["x_eval"] = randn(shape)
        reference = _reference_module(check, private)
        for name in (*check.parameters, *check.buffers):
            current = getattr(reference, name)
            if name == "running_var":
                tensors[f"state.{name}"] = randn(tuple(current.shape)).abs() + 0.5
            else:
                tensors[f"state.{name}"] = randn(tuple(current.shape))
    elif check.kind == "statistical":  # positive: a zero in the output was dropped
        tensors["x"] = (torch.rand(check.inputs[0], generator=generator, dtype=torch.float64)
                        + 0.5).to(dtype)  # fmt: skip
    elif check.kind == "training":
        x_train, y_train, x_test, _ = dataset_split(check)
        tensors.update(X_train=x_train, y_train=y_train, X_test=x_test)
    elif check.kind == "optimizer":
        for i, shape in enumerate(check.inputs):
            tensors[f"param{i}"] = randn(shape)
            for step in range(check.steps):
                tensors[f"grad{step}.{i}"] = randn(shape)
    return tensors


def _weights(check: Check, files: dict[str, bytes]) -> dict:
    from safetensors.torch import load

    content = files.get(check.weights)
    if content is None:
        raise CheckError(f"check {check.name!r}: there is no data file {check.weights}.")
    return {f"network.{k}": v for k, v in load(content).items()}


# The reference (here, in the trusted worker)


def resolve(dotted: str, private: dict[str, bytes]):
    """``torch.nn.functional.elu``, or ``file:attribute`` of one of the assignment's private
    files (the instructor's reference solution), loaded under a name of its own."""
    if ":" in dotted:
        module_name, _, attr = dotted.partition(":")
        content = private.get(f"{module_name}.py")
        if content is None:
            raise CheckError(f"reference {dotted}: there is no private file {module_name}.py.")
        return getattr(_load_private(module_name, content), attr)
    module_name, _, attr = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        owner_name, _, cls = module_name.rpartition(".")
        return getattr(getattr(importlib.import_module(owner_name), cls), attr)


def _load_private(module_name: str, content: bytes):
    with tempfile.TemporaryDirectory(prefix="reference-") as folder:
        path = Path(folder) / f"{module_name}.py"
        path.write_bytes(content)
        spec = importlib.util.spec_from_file_location(f"_reference_{module_name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def _reference_module(check: Check, private: dict[str, bytes] | None = None):
    return resolve(check.reference, private or {})(**check.init)


@contextlib.contextmanager
def _deterministic():
    import torch

    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
    )
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0])
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[1:]


def reference_outputs(check: Check, inputs: dict, *, device: str, private: dict) -> dict:
    """What the reference gives for ``inputs``, computed on ``device``, returned on the CPU:
    the same procedure (``probes``) as the student's object went through in the sandbox."""
    import torch

    from autograder import probes

    on = {k: v.to(device) for k, v in inputs.items()}
    reference = resolve(check.reference, private)
    spec = probe_spec(check)
    if check.kind == "network":  # the instructor's class, beside the reference
        spec["network_class"] = resolve(f"{check.reference.partition(':')[0]}:{check.network}",
                                        private)  # fmt: skip
    with _deterministic():
        torch.manual_seed(check.seed)
        outputs = probes.KINDS[check.kind](reference, on, spec)
    return {k: v.detach().cpu() for k, v in outputs.items()}


# Comparing, stage by stage


WHAT = {
    "out": "the output",
    "train.out": "the output in training mode",
    "eval.out": "the output in evaluation mode",
    "train.grad.x": "the gradient with respect to the input",
    "train.again": "the output of a second call in training mode",
    "lr": "the learning rate by epoch",
    "forward": "the output of the network it returns",
    "tracks_grad": "whether what it returned tracks gradients",
}


def describe(key: str) -> str:
    call, _, rest = key.partition(".")
    if call.startswith("call") and call[4:].isdigit():  # a network check called more than once
        return f"{describe(rest)} after call {call[4:]}"
    if key in WHAT:
        return WHAT[key]
    if key.startswith("trainable."):
        return f"whether {key[10:]} is trained"
    if key.startswith("param."):
        return f"parameter {key[6:]} of the network it returns"
    if key.startswith("grad_arg"):
        return f"the gradient with respect to argument {int(key[8:]) + 1}"
    if key.startswith("train.grad."):
        return f"the gradient of {key[11:]}"
    if key.startswith("train."):
        return f"{key[6:]} after a training step"
    if key.startswith("step"):
        step, _, param = key.partition(".")
        return f"parameter {int(param[5:]) + 1} after step {int(step[4:]) + 1}"
    return key


FLAGS = ("trainable.", "tracks_grad", "inference")


def problem(
    check: Check, inputs: dict, actual: dict, *, device: str, private: dict, expected=None
) -> str:
    """What is wrong with the student's outputs ``actual`` for ``inputs``, "" if nothing: the
    reference's (computed here, unless ``expected`` has them) compared, or, for a statistical
    check, dropout's contract."""
    if check.kind == "statistical":
        return statistical_problem(check, inputs, actual)
    if expected is None:
        expected = reference_outputs(check, inputs, device=device, private=private)
    found = compare(check, expected, actual)
    if not found and check.kind == "optimizer" and never_changes(inputs, actual, check):
        return "Its step() never changes the parameters."
    return found


def compare(check: Check, expected: dict, actual: dict) -> str:
    """ "" when ``actual`` matches ``expected`` everywhere; else what differs first."""
    for key, want in expected.items():
        rest, case = _case(check, key)
        got = actual.get(key)
        problem = (
            _flag(rest, want, got) if any(f in rest for f in FLAGS)
            else _compared(describe(rest), want, got, check)
        )  # fmt: skip
        if problem:
            return problem[:-1] + f" ({case})." if case else problem
    return ""


def _case(check: Check, key: str) -> tuple[str, str]:
    """``key`` without a network check's case prefix, and that case's arguments in words."""
    head, _, rest = key.partition(".")
    if not (head.startswith("case") and head[4:].isdigit()):
        return key, ""
    kwargs = check.cases[int(head[4:]) - 1]
    return rest, "with " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _compared(what: str, want, got, check: Check) -> str:
    if got is None:
        return f"{what.capitalize()} is missing."
    if tuple(got.shape) != tuple(want.shape):
        return f"Shape of {what}: expected {tuple(want.shape)}, got {tuple(got.shape)}."
    if got.dtype != want.dtype:
        return f"Dtype of {what}: expected {_dtype(want)}, got {_dtype(got)}."
    problem = _values(got, want, *check.tolerances_for(_dtype(want)))
    return f"Values of {what}: {problem}" if problem else ""


def _flag(key: str, want, got) -> str:
    """A network's parameter that should (not) be trained, or a result that should not track
    gradients or not be an inference tensor: said in words."""
    call, _, rest = key.partition(".")
    numbered = call.startswith("call") and call[4:].isdigit()
    after, rest = (f" after call {call[4:]}", rest) if numbered else ("", key)
    if rest in ("tracks_grad", "inference"):
        if got is None or bool(got) == bool(want):
            return ""
        if rest == "inference":
            return (f"What it returned{after} is an inference tensor (torch.inference_mode): "
                    "autograd cannot use it later; compute it under torch.no_grad().")  # fmt: skip
        return (f"What it returned{after} should not track gradients: compute it under "
                "torch.no_grad() (or detach it)." if want == 0 else
                f"What it returned{after} should track gradients.")  # fmt: skip
    name = rest[len("trainable.") :]
    if got is None:
        return f"The network it returns{after} has no parameter {name}."
    if bool(got) != bool(want):
        should = "stay trainable (requires_grad=" if want else "be frozen (requires_grad="
        should += f"{bool(want)})"
        return f"{name} should {should}{after}; it is {'trainable' if got else 'frozen'}."
    return ""


def statistical_problem(check: Check, inputs: dict, actual: dict) -> str:
    """Dropout's contract: in training mode about a fraction p of the units is zeroed, afresh on
    every call, and the rest are scaled by 1/(1-p); in evaluation mode the input comes back."""
    import torch

    p = {**check.init, **check.kwargs}["p"]
    x = inputs["x"].double()
    for key in ("train.out", "train.again", "eval.out"):
        got = actual.get(key)
        if got is None or tuple(got.shape) != tuple(x.shape):
            shape = None if got is None else tuple(got.shape)
            return f"Shape of {describe(key)}: expected {tuple(x.shape)}, got {shape}."
    first, second = actual["train.out"].double(), actual["train.again"].double()
    dropped = float((first == 0).double().mean())
    if abs(dropped - p) > check.tolerance:
        return (
            f"In training mode it zeroed {dropped:.4f} of the units; expected p = {p:g} "
            f"(within {check.tolerance:g}, over {first.numel()} units)."
        )
    kept = first != 0
    if bool(kept.any()):
        scale = first[kept] / x[kept]
        want = 1 / (1 - p)
        rtol = max(4 * TOLERANCES[check.dtype][0], 1e-4)  # x / (1 - p) rounds in the dtype
        if not torch.allclose(scale, torch.full_like(scale, want), rtol=rtol, atol=1e-6):
            return (
                f"In training mode the units it kept are scaled by {float(scale.mean()):.4g} on "
                f"average; expected 1/(1-p) = {want:.4g} (inverted dropout)."
            )
    if p > 0 and torch.equal(first == 0, second == 0):
        return "In training mode it dropped the same units on two calls: drop them at random."
    if not torch.allclose(actual["eval.out"].double(), x):
        return "In evaluation mode it should return its input unchanged."
    return ""


def dataset_split(check: Check):
    """(X_train, y_train, X_test, y_test) of the check's data set, shuffled by its seed: the
    same every time. scikit-learn's load_digits: 1,797 8x8 images, pixels scaled to [0, 1]."""
    return _split(check.dataset, check.classes, check.seed, check.train_fraction)


@functools.lru_cache(maxsize=8)  # made for the inputs, needed again for the score; not changed
def _split(dataset: str, classes: tuple[int, ...], seed: int, train_fraction: float):
    import torch
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16
    y = torch.tensor(digits.target, dtype=torch.int64)
    if classes:
        keep = torch.isin(y, torch.tensor(classes))
        x, y = x[keep], y[keep]
        relabel = {c: i for i, c in enumerate(classes)}
        y = torch.tensor([relabel[int(v)] for v in y], dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    cut = int(len(y) * train_fraction)
    train, test = order[:cut], order[cut:]
    return x[train], y[train], x[test], y[test]


def public_datasets(found) -> dict[Path, bytes]:
    """The data set files as the sandbox shows them while ``found`` checks run: without the rows
    of any training check's classes (all rows, for a check of every class), so that a notebook
    can neither look the held-out labels up in the copy of the data set that ships with
    scikit-learn nor train on the training rows before the check starts."""
    training = [c for c in found if c.kind == "training"]
    if not training:
        return {}
    hidden = None if any(not c.classes for c in training) else frozenset(
        label for c in training for label in c.classes
    )  # fmt: skip
    return {digits_file(): _digits_without(hidden)}


@functools.lru_cache(maxsize=8)  # the same few class sets at every grading of an assignment
def _digits_without(labels: frozenset[int] | None) -> bytes:
    """digits.csv.gz without the rows of ``labels`` (the last column), or without any row."""
    import gzip

    lines = gzip.decompress(digits_file().read_bytes()).decode().splitlines()
    kept = [] if labels is None else [
        line for line in lines if int(float(line.rsplit(",", 1)[1])) not in labels
    ]  # fmt: skip
    return gzip.compress(("\n".join(kept) + "\n").encode(), mtime=0)


def digits_file() -> Path:
    import sklearn.datasets

    return Path(sklearn.datasets.__file__).parent / "data" / "digits.csv.gz"


def training_points(check: Check, actual: dict) -> tuple[Decimal, str]:
    """The points the trained model's held-out accuracy earns, and what to tell the student."""

    *_, y_test = dataset_split(check)
    predictions = actual.get("predictions")
    classes = int(y_test.max()) + 1
    if predictions is None or tuple(predictions.shape) != tuple(y_test.shape):
        returned = actual.get("returned_shape")
        shape = None if returned is None else tuple(int(n) for n in returned.tolist())
        return Decimal(0), (
            f"For the {len(y_test)} held-out inputs (a batch of shape ({len(y_test)}, "
            f"{check_features(check)})) the model should return ({len(y_test)}, {classes}) scores, "
            f"one row per input, or {len(y_test)} class numbers; it returned shape {shape}."
        )
    low, high = int(predictions.min()), int(predictions.max())
    if low < 0 or high >= classes:
        return Decimal(0), (
            f"Its predictions should be class numbers 0-{classes - 1}, as in y_train; they range "
            f"from {low} to {high}."
        )
    accuracy = _accuracy(check, actual)
    earned = next((pts for acc, pts in check.thresholds if accuracy >= acc), Decimal(0))
    best_acc, best_pts = check.thresholds[0]
    message = (
        f"Held-out accuracy {accuracy:.3f} on {len(y_test)} digits: {earned} of {best_pts} points"
    )
    if earned < best_pts:
        message += f" (all {best_pts} from {best_acc:g})"
    return earned, message + "."


IMPLAUSIBLE_ACCURACY = 0.99


def implausible(check: Check, actual: dict) -> list[str]:
    """For staff: a held-out accuracy that a model trained within the rules hardly reaches here,
    which a table of the public data set's labels would (a reason to read the submission)."""
    accuracy = _accuracy(check, actual)
    if accuracy is None or accuracy < IMPLAUSIBLE_ACCURACY:
        return []
    return [
        f"Check {check.name!r}: held-out accuracy {accuracy:.3f} is more than a model trained "
        "on its training set usually reaches; read the submission (a table of the public data "
        "set's labels would do it)."
    ]


def _accuracy(check: Check, actual: dict) -> float | None:
    """The share of held-out inputs predicted right; None if the predictions are not one per
    held-out input."""
    import torch

    *_, y_test = dataset_split(check)
    predictions = actual.get("predictions")
    if predictions is None or tuple(predictions.shape) != tuple(y_test.shape):
        return None
    return float((predictions.to(torch.int64) == y_test).double().mean())


def check_features(check: Check) -> int:
    x_train, *_ = dataset_split(check)
    return int(x_train.shape[1])


def never_changes(initial: dict, actual: dict, check: Check) -> bool:
    """An optimizer whose steps leave every parameter where it started."""
    import torch

    return all(
        torch.equal(actual[f"step{step}.param{i}"], initial[f"param{i}"])
        for step in range(check.steps)
        for i in range(len(check.inputs))
        if f"step{step}.param{i}" in actual
    )


def _dtype(tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _values(got, want, rtol: float, atol: float) -> str:
    import torch

    got64, want64 = got.double(), want.double()
    nan_mismatch = torch.isnan(got64) != torch.isnan(want64)
    close = torch.isclose(got64, want64, rtol=rtol, atol=atol, equal_nan=True) & ~nan_mismatch
    if bool(close.all()):
        return ""
    bad = (~close).nonzero()[0].tolist()
    index = tuple(bad)
    abs_err = (got64 - want64).abs()
    finite = torch.isfinite(abs_err)
    max_abs = float(abs_err[finite].max()) if bool(finite.any()) else math.inf
    nonzero = want64 != 0  # relative to 0 means nothing
    rel = (abs_err / want64.abs())[nonzero & finite]
    max_rel = _number(rel.max()) if rel.numel() else "n/a"
    where = f"at index {list(index)}" if index else "at the only element"
    mismatched = int((~close).sum())
    return (
        f"{mismatched} of {close.numel()} differ; the first {where}: expected "
        f"{_number(want64[index])}, got {_number(got64[index])} (largest absolute error "
        f"{_number(max_abs)}, largest relative error {max_rel}; tolerance rtol={rtol:g}, "
        f"atol={atol:g})."
    )


def _number(value) -> str:
    value = float(value)
    return f"{value:.6g}"


def best_device() -> str:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


MAX_OUTPUT_TENSORS = 256


def load_outputs(data: bytes) -> dict | None:
    """The student's outputs, from safetensors bytes (no pickle); None if they are not that, or
    hold more tensors than any probe writes (a file of a million empty tensors costs seconds)."""
    import json

    from safetensors.torch import load

    try:
        header_size = int.from_bytes(data[:8], "little")
        if not 2 <= header_size <= min(len(data) - 8, 1 << 20):
            return None
        header = json.loads(data[8 : 8 + header_size])
        if not isinstance(header, dict) or len(header) > MAX_OUTPUT_TENSORS + 1:
            return None
        return dict(load(data))
    except Exception:
        return None


def save_inputs(tensors: dict) -> bytes:
    from safetensors.torch import save

    return save({k: v.contiguous() for k, v in tensors.items()})


def probe_spec(check: Check) -> dict:
    """What ``probes.run`` gets in the sandbox."""
    inputs, outputs = check.files()
    forbidden = check.forbidden
    spec = {
        "kind": check.kind, "target": check.target, "seed": check.seed, "inputs": inputs,
        "outputs": outputs, "forbid": _labels(forbidden.python, forbidden),
        "forbid_ops": _labels(forbidden.aten, forbidden), "gradients": check.gradients,
        "kwargs": check.kwargs, "init": check.init, "arity": len(check.inputs),
        "parameters": list(check.parameters), "buffers": list(check.buffers),
        "modes": list(check.modes), "steps": check.steps, "lr": check.lr, "epochs": check.epochs,
        "parameters_count": len(check.inputs), "metrics": list(check.metrics),
        "time_budget": check.time_budget, "calls": check.calls, "frozen": check.frozen,
        "cases": list(check.cases),
    }  # fmt: skip
    if check.kind == "network":
        spec["network"] = f"{check.target.partition(':')[0]}:{check.network}"
    return spec


def _labels(names: dict, forbidden: families.Forbidden) -> dict[str, str]:
    return {name: forbidden.label(name) for name in sorted(names)}
