"""Forbidden APIs in the student's source, looked for before anything runs (the guard traps them
again while a check runs): an import of one, a name bound to one, or, in the checked definition, a
use of one or of one of its relatives (``autograder.families``)."""

from __future__ import annotations

import ast
import functools
import importlib

from autograder import families
from autograder.checks.names import aliases_of, dotted_name, parsed


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
    code = {n: c for n, c in sources.items() if n.endswith(".py") or n == "the notebook"}
    for filename, tree in parsed(code):
        found += _uses_in(tree, filename, forbidden, target)
    return sorted(set(found))


def _uses_in(tree, filename: str, forbidden: families.Forbidden, target: str | None) -> list[str]:
    aliases = aliases_of(tree)
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
            for dotted in filter(None, map(dotted_name, values)):
                hit(node, dotted)
        elif isinstance(node, ast.ClassDef):
            for dotted in filter(None, map(dotted_name, node.bases)):
                hit(node, dotted)
    for node in ast.walk(_definition(tree, target) or tree):  # uses, in the target
        dotted = dotted_name(node)
        if dotted is not None and not isinstance(getattr(node, "ctx", None), ast.Store):
            hit(node, dotted)
    return found


def _definition(tree, name: str | None):
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    matches = [n for n in tree.body if isinstance(n, defs) and n.name == name] if name else []
    return matches[-1] if matches else None  # the last definition is the one that counts


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
    obj = torch_object(full)
    if obj is not None:
        for name in forbidden.python:
            if torch_object(name) is obj:
                return name
    return None


@functools.cache
def torch_object(dotted: str):
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
