"""Changing torch or the checks' own code, found in the source: then every check scores 0."""

from __future__ import annotations

import ast

from autograder.checks.names import (
    aliases_of,
    bound_to_paths,
    dotted_name,
    module_level_names,
    parsed,
    scope_names,
)

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
    for filename, tree in parsed(sources):
        paths = bound_to_paths(tree, aliases or {})
        names = {**(aliases or {}), **aliases_of(tree), **paths}
        shadowed = module_level_names(tree) - set(paths)  # rebound to something else
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node, target in _changed(tree):
            dotted = dotted_name(target)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            if head in shadowed or head in _locals_around(node, parents):
                continue
            full = names.get(head, head) + (f".{rest}" if rest else "")
            if _protected(full):
                found.append(f"{full} ({filename}, line {node.lineno})")
    return sorted(set(found))


def _locals_around(node, parents: dict) -> set[str]:
    """The local names of every function around ``node`` (less those it declares global)."""
    names: set[str] = set()
    current = parents.get(node)
    while current is not None:
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            declared = {n for g in ast.walk(current) if isinstance(g, ast.Global) for n in g.names}
            body = current.body if isinstance(current.body, list) else [current.body]
            names |= scope_names([*body, current.args]) - declared
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
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("setattr", "delattr")
            and node.args
        ):
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
