"""Formula answers: is a student's expression the same as the key, symbolically?

``theta - eta*dR/dtheta`` and ``-eta*dR/dtheta + theta`` are the same answer. The text is parsed
with Python's ``ast`` into a small whitelist (numbers, the question's declared symbols, + - * / **,
a few functions) and the SymPy expression is built from that tree by hand: nothing is ever passed
to ``eval`` or to SymPy's own parser (which evaluates Python). Sizes are bounded before SymPy sees
anything (length, nodes, depth, the size of numbers and of constant powers), so a hostile answer
(``__import__('os')``, ``9**9**9**9``) is refused at once with a message a student can act on.

    formula_equivalent("-eta*dR/dtheta + theta", "theta - eta*dR/dtheta",
                       symbols=["theta", "eta", "dR", "dtheta"])   # -> True
"""

from __future__ import annotations

import ast
import functools
import random

MAX_LENGTH = 300
MAX_NODES = 150
MAX_DEPTH = 12
MAX_NUMBER = 10**6
MAX_CONSTANT_EXPONENT = 64
FUNCTIONS = ("exp", "log", "ln", "sqrt", "sin", "cos", "tan", "tanh", "abs", "sigmoid")
ALIASES = {"θ": "theta", "η": "eta", "λ": "lambda_", "α": "alpha", "β": "beta", "σ": "sigma",
           "μ": "mu", "∂": "d", "·": "*", "×": "*", "−": "-", "^": "**"}  # fmt: skip


class FormulaError(ValueError):
    """The answer cannot be read as a formula; the message says why, for the student."""


def formula_equivalent(answer: str, key: str, *, symbols: list[str]) -> bool:
    """Whether ``answer`` is the same expression as ``key`` (``FormulaError`` if ``answer`` cannot
    be read). A difference that is not zero at random points of the symbols is a wrong answer at
    once (no simplifying a wrong answer, which can be slow); one that is zero there is confirmed
    symbolically (``simplify(answer - key) == 0``), and where SymPy cannot decide, the points
    decide."""
    import sympy

    mine, theirs = parse(answer, symbols=symbols), parse(key, symbols=symbols)
    difference = mine - theirs
    if difference == 0:
        return True
    if not _numerically_zero(difference, [sympy.Symbol(s) for s in symbols]):
        return False
    try:
        if sympy.simplify(difference) == 0:
            return True
    except (TypeError, ValueError, ZeroDivisionError, RecursionError):
        pass
    return True  # zero at every point tried, and SymPy could not say otherwise


def _numerically_zero(expression, symbols) -> bool:
    rng = random.Random(0)
    for _ in range(8):
        point = {s: rng.uniform(0.5, 2.0) for s in symbols}
        try:
            value = complex(expression.evalf(subs=point, n=15))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return False
        if not abs(value) <= 1e-9:  # NaN fails too
            return False
    return True


def parse(text: str, *, symbols: list[str]):
    """``text`` as a SymPy expression over ``symbols``; ``FormulaError`` if it is not one."""
    tree = _tree(text)
    return _Builder(tuple(symbols)).build(tree.body)


def _tree(text: str) -> ast.Expression:
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("Write a formula.")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"The formula is longer than {MAX_LENGTH} characters.")
    for alias, meant in ALIASES.items():
        text = text.replace(alias, meant)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise FormulaError(
            "This is not a formula we can read: write products with * (2*x, not 2x) and powers "
            "with ** or ^."
        ) from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise FormulaError("The formula is too long; simplify it.")
    if _depth(tree.body) > MAX_DEPTH:
        raise FormulaError("The formula is nested too deeply; simplify it.")
    return tree


def _depth(node) -> int:
    children = list(ast.iter_child_nodes(node))
    return 1 + max((_depth(c) for c in children), default=0)


class _Builder:
    def __init__(self, symbols: tuple[str, ...]) -> None:
        self.symbols = symbols

    def build(self, node):
        if isinstance(node, ast.Constant):
            return self.number(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self.build(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise FormulaError(f"{_shown(node)} is not allowed in a formula.")

    def number(self, value):
        import sympy

        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FormulaError(f"{value!r} is not a number.")
        if abs(value) > MAX_NUMBER:
            raise FormulaError(f"Numbers larger than {MAX_NUMBER:,} are not allowed.")
        return sympy.Integer(value) if isinstance(value, int) else sympy.Rational(str(value))

    def name(self, identifier: str):
        import sympy

        if identifier in self.symbols:
            return sympy.Symbol(identifier)
        if identifier in ("pi", "e"):
            return sympy.pi if identifier == "pi" else sympy.E
        allowed = ", ".join(self.symbols) or "none"
        raise FormulaError(f"Unknown name {identifier!r}: the symbols here are {allowed}.")

    def binary(self, node: ast.BinOp):
        left, right = self.build(node.left), self.build(node.right)
        op = node.op
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Div):
            return left / right
        if isinstance(op, ast.Pow):
            if right.is_number and (not right.is_finite or abs(right) > MAX_CONSTANT_EXPONENT):
                raise FormulaError(f"Powers above {MAX_CONSTANT_EXPONENT} are not allowed.")
            if left.is_number and right.is_number and abs(left) > 1 and _too_big(left, right):
                raise FormulaError("That number is too large.")
            return left**right
        raise FormulaError(f"{_shown(node)}: only + - * / and ** are allowed.")

    def call(self, node: ast.Call):
        import sympy

        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS or node.keywords or len(node.args) != 1:
            raise FormulaError(
                f"{_shown(node)} is not allowed: the functions here are {', '.join(FUNCTIONS)}, "
                "each of one argument."
            )
        arg = self.build(node.args[0])
        if name == "sigmoid":
            return 1 / (1 + sympy.exp(-arg))
        return _functions()[name](arg)


def _too_big(base, exponent) -> bool:
    import sympy

    return float(sympy.log(abs(base), 10)) * float(abs(exponent)) > 400


@functools.cache
def _functions() -> dict:
    import sympy

    return {"exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "sqrt": sympy.sqrt,
            "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "tanh": sympy.tanh,
            "abs": sympy.Abs}  # fmt: skip


def _shown(node) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."
