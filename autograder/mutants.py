"""Mutants of a reference solution: the code between an nbgrader cell's ``### BEGIN SOLUTION`` and
``### END SOLUTION``, each changed in one small way a student might get wrong.

Operators (each mutant applies one, once): an arithmetic operator swapped (``+``/``-``,
``*``/``/``, ``**`` to ``*``), a term dropped (``a + b`` to ``a`` or ``b``), a term moved into
or out of a call (``v.sqrt() + eps`` to ``(v + eps).sqrt()``, ``f(a + b)`` to ``f(a) + b``), a
comparison loosened or tightened (``<``/``<=``, ``>``/``>=``), a whole number one more or one less
(a step count, a range, an index), a flag flipped (``True``/``False``), two hyperparameters
swapped (``group["lr"]``/``group["momentum"]``, ``self.a``/``self.b``, ``beta1, beta2``), a
statement dropped, and two neighbouring statements swapped (an increment moved past its use).

A mutant's id names its definition and the statement before and after, so that an author can
mark it accepted (equivalent, or a difference no check needs to see) with a reason.
"""

from __future__ import annotations

import ast
import copy
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
SWAPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.Pow: ast.Mult,
}
COMPARISONS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}


@dataclass(frozen=True)
class Mutant:
    id: str  # "Adam.step: <statement> -> <statement>"
    definition: str  # the top-level function or class it changes
    operator: str
    source: str  # the cell's whole source, mutated


def solution_lines(source: str) -> set[int]:
    """The line numbers (from 1) between the solution markers of a cell's source."""
    inside, lines = False, set()
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip().startswith(BEGIN):
            inside = True
        elif line.strip().startswith(END):
            inside = False
        elif inside:
            lines.add(number)
    return lines


def of_cell(source: str, *, skip: frozenset[str] = frozenset()) -> Iterator[Mutant]:
    """Each mutant of the solution regions of one cell's ``source``, but none in the top-level
    definitions named in ``skip``."""
    lines = solution_lines(source)
    if not lines:
        return
    tree = ast.parse(source)
    seen: dict[str, int] = {}
    for number, top in enumerate(tree.body):
        if not isinstance(top, ast.FunctionDef | ast.ClassDef) or top.name in skip:
            continue
        for operator, path, replacement in _mutations(top, (("body", number),), lines):
            mutated = copy.deepcopy(tree)
            statement = _replace(mutated, path, replacement)
            if statement is None:
                continue
            before = _statement_at(tree, path)
            after = ast.unparse(statement).strip().replace("\n", "; ") if statement else ""
            where = f"{top.name}.{_inner(tree, path)}" if _inner(tree, path) else top.name
            text = f"{where}: {ast.unparse(before).strip().replace(chr(10), '; ')} -> {after}"
            seen[text] = seen.get(text, 0) + 1
            ident = text if seen[text] == 1 else f"{text} #{seen[text]}"
            yield Mutant(ident, top.name, operator, ast.unparse(mutated))


# Paths: a node is found again in a copy of the tree by the fields and indices leading to it.


def _walk(node, path=()):
    yield path, node
    for name, value in ast.iter_fields(node):
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield from _walk(item, (*path, (name, index)))
        elif isinstance(value, ast.AST):
            yield from _walk(value, (*path, (name, None)))


def _get(tree, path):
    node = tree
    for name, index in path:
        node = getattr(node, name)
        if index is not None:
            node = node[index]
    return node


def _replace(tree, path, replacement):
    """Put ``replacement`` (a node; None to delete; ``SWAP`` to swap with the next statement) at
    ``path`` in ``tree``; returns the statement that now holds the change, or None if there is
    no such change to make."""
    *parent_path, (name, index) = path
    parent = _get(tree, parent_path)
    if replacement is SWAP:
        block = getattr(parent, name)
        if index + 1 >= len(block):
            return None
        block[index], block[index + 1] = block[index + 1], block[index]
        ast.fix_missing_locations(tree)
        return block[index]
    if index is None:
        setattr(parent, name, replacement)
    elif replacement is None:
        block = getattr(parent, name)
        del block[index]
        if not block:
            block.append(ast.Pass())
        return ast.Pass()
    else:
        getattr(parent, name)[index] = replacement
    ast.fix_missing_locations(tree)
    return _statement_at(tree, path)


SWAP = object()


def _statement_at(tree, path):
    """The innermost statement on ``path`` (the node itself if it is one)."""
    found, node = None, tree
    for name, index in path:
        node = getattr(node, name)
        if index is not None:
            node = node[index]
        if isinstance(node, ast.stmt):
            found = node
    return found


def _inner(tree, path) -> str:
    """The method a path is in, if it is in a class."""
    node = _get(tree, path[:1])
    if not isinstance(node, ast.ClassDef):
        return ""
    for name, index in path[1:]:
        node = getattr(node, name) if index is None else getattr(node, name)[index]
        if isinstance(node, ast.FunctionDef):
            return node.name
    return ""


def _mutations(top, base, lines: set[int]):
    """(operator, path in the cell's module, replacement) for each mutation in ``top``."""
    for path, node in _walk(top, base):
        if isinstance(node, ast.FunctionDef) or getattr(node, "lineno", None) in lines:
            yield from _of_node(node, path, lines)


def _of_node(node, path, lines):
    if isinstance(node, ast.BinOp) and type(node.op) in SWAPS:
        swapped = copy.deepcopy(node)
        swapped.op = SWAPS[type(node.op)]()
        yield "swap an operator", path, swapped
        if isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            yield "drop a term", path, copy.deepcopy(node.left)
            yield "drop a term", path, copy.deepcopy(node.right)
        yield from _moved(node, path)
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARISONS:
        changed = copy.deepcopy(node)
        changed.ops = [COMPARISONS[type(node.ops[0])]()]
        yield "change a comparison", path, changed
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        for delta in (1, -1):
            yield "off by one", path, ast.Constant(node.value + delta)
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        yield "flip a flag", path, ast.Constant(not node.value)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "flip a sign", path, copy.deepcopy(node.operand)
    elif isinstance(node, ast.FunctionDef):
        yield from _hyperparameters(node, path, lines)
    if isinstance(node, ast.stmt) and not isinstance(node, ast.FunctionDef | ast.ClassDef):
        yield from _statements(node, path)


def _moved(node: ast.BinOp, path):
    """``f(a) op b`` as ``f(a op b)``, ``a.f() op b`` as ``(a op b).f()``, and the reverse."""
    left = node.left
    if isinstance(left, ast.Call) and not left.keywords:
        if isinstance(left.func, ast.Attribute) and not left.args:  # a.f() op b
            inner = ast.BinOp(left=left.func.value, op=node.op, right=node.right)
            moved = ast.Call(
                func=ast.Attribute(value=inner, attr=left.func.attr, ctx=ast.Load()),
                args=[],
                keywords=[],
            )
            yield "move a term", path, copy.deepcopy(moved)
        elif len(left.args) == 1:  # f(a) op b
            moved = ast.Call(
                func=left.func,
                args=[ast.BinOp(left=left.args[0], op=node.op, right=node.right)],
                keywords=[],
            )
            yield "move a term", path, copy.deepcopy(moved)
    for side in ("left", "right"):
        call = getattr(node, side)
        if (
            isinstance(call, ast.Call)
            and len(call.args) == 1
            and isinstance(call.args[0], ast.BinOp)
        ):
            inner = call.args[0]
            out = copy.deepcopy(node)
            setattr(
                out,
                side,
                ast.BinOp(
                    left=ast.Call(func=call.func, args=[inner.left], keywords=call.keywords),
                    op=inner.op,
                    right=inner.right,
                ),
            )
            yield "move a term", path, out


def _hyperparameters(function: ast.FunctionDef, path, lines):
    """Two hyperparameters swapped everywhere in one statement of ``function``: ``x["a"]`` and
    ``x["b"]`` on the same ``x``, ``self.a`` and ``self.b``, or the targets of ``a, b = ...``."""
    for index, statement in enumerate(function.body):
        for sub_path, node in _walk(statement, (*path, ("body", index))):
            if getattr(node, "lineno", None) not in lines:
                continue
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple):
                names = node.targets[0].elts
                if len(names) == 2:
                    swapped = copy.deepcopy(node)
                    swapped.targets[0].elts = [copy.deepcopy(names[1]), copy.deepcopy(names[0])]
                    yield "swap two hyperparameters", sub_path, swapped
    keys = _keys(function, lines)
    for (base, first), (other, second) in itertools.combinations(sorted(keys), 2):
        if base != other:
            continue
        for sub_path, node in _walk(function, path):
            if isinstance(node, ast.stmt) and _has_key(node, base, first, lines):
                yield "swap two hyperparameters", sub_path, _swap_keys(node, base, first, second)


def _keys(function, lines) -> set[tuple[str, str]]:
    found = set()
    for node in ast.walk(function):
        if getattr(node, "lineno", None) not in lines:
            continue
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                found.add((node.value.id, node.slice.value))
        elif _self_attribute(node):
            found.add(("self.", node.attr))
    return found


def _has_key(statement, base: str, key: str, lines) -> bool:
    if isinstance(statement, ast.FunctionDef | ast.ClassDef | ast.For | ast.If | ast.With):
        return False  # the simple statements inside them are mutated one by one
    return statement.lineno in lines and (base, key) in _keys(statement, lines)


def _swap_keys(statement, base: str, first: str, second: str):
    swapped = copy.deepcopy(statement)
    for node in ast.walk(swapped):
        if base == "self." and _self_attribute(node):
            node.attr = {first: second, second: first}.get(node.attr, node.attr)
        elif _keyed(node, base):
            value = node.slice.value
            node.slice = ast.Constant({first: second, second: first}.get(value, value))
    return swapped


def _self_attribute(node) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and isinstance(node.ctx, ast.Load)
    )


def _keyed(node, base: str) -> bool:
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == base
        and isinstance(node.slice, ast.Constant)
    )


def _statements(statement, path):
    """The statement dropped, and swapped with the one after it."""
    *_, (name, index) = path
    if index is None or name not in ("body", "orelse"):
        return
    if not isinstance(statement, ast.Return):
        yield "drop a statement", path, None
    yield "swap two statements", path, SWAP
