"""Resolving names in the student's source as Python would, for the source scans (forbidden APIs,
tampering, and ``autograder.reach``): what an import's alias stands for, a dotted name's text, the
names a scope binds."""

from __future__ import annotations

import ast


def parsed(sources: dict[str, bytes]):
    """(file name, syntax tree) of each of ``sources`` that parses; one that does not is left
    out (it fails on its own when it runs)."""
    for filename, content in sources.items():
        try:
            yield filename, ast.parse(content, filename=filename)
        except (SyntaxError, ValueError):
            continue


def aliases_of(tree) -> dict[str, str]:
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


def dotted_name(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def bound_to_paths(tree, aliases: dict[str, str]) -> dict[str, str]:
    """Module-level names bound to a dotted path (``F = torch.nn.functional``), resolved."""
    names = {**aliases, **aliases_of(tree)}
    bound = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, path = node.targets[0], dotted_name(node.value)
            if isinstance(target, ast.Name) and path is not None:
                head, _, rest = path.partition(".")
                bound[target.id] = names.get(head, head) + (f".{rest}" if rest else "")
    return bound


def module_level_names(tree) -> set[str]:
    """Names the module binds other than by import: variables that may shadow an alias."""
    return scope_names(tree.body)


def scope_names(body) -> set[str]:
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
