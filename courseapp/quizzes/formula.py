"""Reading formula answers: the text, the symbols a question declares, and the SymPy expression.

The text is parsed with Python's ``ast`` into a small whitelist (numbers, the question's declared
symbols, ``pi`` and ``e``, + - * / **, a few functions of one argument). ``read`` checks all of it
without SymPy, so the web process can tell a student at once why an answer cannot be read; only
the judge's child process (``courseapp.quizzes.judge``) builds SymPy expressions, with ``build``,
by hand from that tree: nothing is ever passed to ``eval`` or to SymPy's own parser. Sizes are
bounded before SymPy sees anything (length, nodes, depth, the size of numbers and of constant
powers), and every constant SymPy folds is kept between 1e-400 and 1e400 (or zero), so that a
difference hidden in a tiny constant stays within the judge's precision.

A key declares its symbols and, optionally, where each one lives (``SYMBOL_DOMAINS``)::

    symbols: [theta, eta, dR, dtheta]                  # each any real number
    symbols: {x: real, n: natural, p: {min: 0, max: 1}, lr: positive}

This module imports nothing from Django: the judge's child process imports it on its own.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .numeric import read_decimal

# SymPy (a second to import, and much memory) is imported inside the functions that build
# expressions: the web process reads formulas without it; only the judge's child builds them.

MAX_LENGTH = 300
MAX_NODES = 150
MAX_DEPTH = 12  # nesting, a chain of + - or of * / counting once (SymPy flattens it)
MAX_NUMBER = 10**6  # the bounds of a symbol's declared range
MAX_CONSTANT_EXPONENT = 64
MAX_SYMBOLS = 12
MAX_CONSTANT_DIGITS = 400  # a folded constant stays within 1e-400 .. 1e400
FUNCTIONS = ("exp", "log", "ln", "sqrt", "sin", "cos", "tan", "tanh", "abs", "sigmoid")
ALIASES = {
    "θ": "theta",
    "η": "eta",
    "λ": "lambda_",
    "α": "alpha",
    "β": "beta",
    "σ": "sigma",
    "μ": "mu",
    "∂": "d",
    "·": "*",
    "×": "*",
    "−": "-",
    "^": "**",
}
CONSTANTS = ("pi", "e")


class FormulaError(ValueError):
    """The text cannot be read as a formula; the message says why, for the student."""


@dataclass(frozen=True)
class Domain:
    """Where a symbol lives: an interval of the reals (either end open to infinity), maybe only
    its integers, maybe without zero."""

    low: Fraction | None = None  # None: unbounded
    high: Fraction | None = None
    integer: bool = False
    nonzero: bool = False
    low_open: bool = False  # positive: (0, oo); negative: (-oo, 0)
    high_open: bool = False

    def contains(self, value: Fraction) -> bool:
        low, high = self.low, self.high
        if low is not None and (value < low or (self.low_open and value == low)):
            return False
        if high is not None and (value > high or (self.high_open and value == high)):
            return False
        if self.integer and value.denominator != 1:
            return False
        return not (self.nonzero and value == 0)


SYMBOL_DOMAINS = {
    "real": Domain(),
    "positive": Domain(low=Fraction(0), low_open=True),
    "nonnegative": Domain(low=Fraction(0)),
    "negative": Domain(high=Fraction(0), high_open=True),
    "nonpositive": Domain(high=Fraction(0)),
    "nonzero": Domain(nonzero=True),
    "integer": Domain(integer=True),
    "natural": Domain(low=Fraction(1), integer=True),
}
RANGE_KEYS = {"min", "max", "integer"}


def symbol_domains(spec) -> dict[str, Domain]:
    """The declared symbols (a list of names, or a mapping of name to a domain's name or to
    ``{min:, max:, integer:}``) as name → ``Domain``; ``FormulaError`` naming what is wrong."""
    if isinstance(spec, list):
        spec = dict.fromkeys(spec, "real") if all(isinstance(s, str) for s in spec) else None
    if not isinstance(spec, dict):
        raise FormulaError("symbols must be a list of names, or a mapping of name to domain.")
    if len(spec) > MAX_SYMBOLS:
        raise FormulaError(f"A formula may use at most {MAX_SYMBOLS} symbols.")
    domains = {}
    for name, domain in spec.items():
        if not isinstance(name, str) or not name.isidentifier() or not name.isascii():
            raise FormulaError(f"Symbol {name!r} is not a name (letters, digits and _).")
        if name in FUNCTIONS or name in CONSTANTS:
            raise FormulaError(f"Symbol {name!r} is the name of a function or constant.")
        domains[name] = _domain(name, domain)
    return domains


def _domain(name: str, spec) -> Domain:
    if isinstance(spec, str) and spec in SYMBOL_DOMAINS:
        return SYMBOL_DOMAINS[spec]
    if not isinstance(spec, dict) or not spec or set(spec) - RANGE_KEYS:
        raise FormulaError(
            f"Symbol {name}: the domain is one of {', '.join(SYMBOL_DOMAINS)}, or "
            "{min: a, max: b, integer: true|false}."
        )
    low, high = (_bound(name, key, spec.get(key)) for key in ("min", "max"))
    integer = spec.get("integer", False)
    if not isinstance(integer, bool):
        raise FormulaError(f"Symbol {name}: integer must be true or false.")
    if low is not None and high is not None and low >= high:
        raise FormulaError(f"Symbol {name}: min must be below max.")
    if integer and low is not None and high is not None and math.floor(high) < math.ceil(low):
        raise FormulaError(f"Symbol {name}: no integer lies between min and max.")
    return Domain(low=low, high=high, integer=integer)


def _bound(name: str, key: str, value) -> Fraction | None:
    if value is None:
        return None
    if isinstance(value, str):  # YAML reads 1e-7 (no dot) as text
        value = read_decimal(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | Decimal)
        or not math.isfinite(value)
    ):
        raise FormulaError(f"Symbol {name}: {key} must be a number.")
    if abs(value) > MAX_NUMBER:
        raise FormulaError(f"Symbol {name}: {key} must be within ±{MAX_NUMBER:,}.")
    return Fraction(str(value))


def read(text, names) -> ast.Expression:
    """``text`` as a checked syntax tree over the symbols ``names``; ``FormulaError`` with a
    reason a student can act on if it is not a formula. Cheap: no SymPy."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("Write a formula.")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"The formula is longer than {MAX_LENGTH} characters.")
    for alias, meant in ALIASES.items():
        text = text.replace(alias, meant)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise FormulaError(
            "This is not a formula we can read: write products with * (2*x, not 2x) and powers "
            "with ** or ^."
        ) from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise FormulaError("The formula is too long; simplify it.")
    if _depth(tree.body) > MAX_DEPTH:
        raise FormulaError("The formula is nested too deeply; simplify it.")
    _check(tree.body, frozenset(names))
    return tree


_CHAINS = ((ast.Add, ast.Sub), (ast.Mult, ast.Div))


def _depth(node) -> int:
    """How deeply ``node`` nests, where a long sum or product (``a + b + c``, parsed as
    ``(a + b) + c``) is one level, as SymPy's flat ``Add`` and ``Mul`` are."""
    deepest = 0
    for child in ast.iter_child_nodes(node):
        same_chain = any(
            isinstance(node, ast.BinOp)
            and isinstance(child, ast.BinOp)
            and isinstance(node.op, ops)
            and isinstance(child.op, ops)
            for ops in _CHAINS
        )
        deepest = max(deepest, _depth(child) - same_chain)
    return 1 + deepest


def _check(node, names: frozenset) -> None:
    if isinstance(node, ast.Constant):
        _number(node.value)
    elif isinstance(node, ast.Name):
        if node.id not in names and node.id not in CONSTANTS:
            allowed = ", ".join(sorted(names)) or "none"
            raise FormulaError(f"Unknown name {node.id!r}: the symbols here are {allowed}.")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check(node.operand, names)
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div | ast.Pow):
            raise FormulaError(f"{_shown(node)}: only + - * / and ** are allowed.")
        _check(node.left, names)
        _check(node.right, names)
        if isinstance(node.op, ast.Pow):
            exponent = _constant(node.right)
            if exponent is not None and abs(exponent) > MAX_CONSTANT_EXPONENT:
                raise FormulaError(f"Powers above {MAX_CONSTANT_EXPONENT} are not allowed.")
        _constant(node)
    elif isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS or node.keywords or len(node.args) != 1:
            raise FormulaError(
                f"{_shown(node)} is not allowed: the functions here are {', '.join(FUNCTIONS)}, "
                "each of one argument."
            )
        _check(node.args[0], names)
    else:
        raise FormulaError(f"{_shown(node)} is not allowed in a formula.")


def _constant(node) -> Fraction | None:
    """The exact value of a subtree of plain numbers, or None if it holds a name, a function or
    a power that is not a whole one; ``FormulaError`` if a number in it is too large or too
    small. Cheap (no SymPy): it tells a student at once that ``9**9**9`` cannot be."""
    if isinstance(node, ast.Constant):
        return Fraction(str(_number(node.value)))
    if isinstance(node, ast.UnaryOp):
        value = _constant(node.operand)
        return -value if value is not None and isinstance(node.op, ast.USub) else value
    if not isinstance(node, ast.BinOp):
        return None
    left, right = _constant(node.left), _constant(node.right)
    if left is None or right is None:
        return None
    if isinstance(node.op, ast.Pow):
        if abs(right) > MAX_CONSTANT_EXPONENT:
            raise FormulaError(f"Powers above {MAX_CONSTANT_EXPONENT} are not allowed.")
        if right.denominator != 1 or (left == 0 and right < 0):
            return None
        if _digits(left) * abs(right) > 2 * MAX_CONSTANT_DIGITS:
            raise FormulaError("That number is too large.")
        value = left ** int(right)
    elif isinstance(node.op, ast.Div):
        if right == 0:
            return None
        value = left / right
    else:
        value = {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}[
            type(node.op)
        ]
    if value and not -MAX_CONSTANT_DIGITS <= _magnitude(value) <= MAX_CONSTANT_DIGITS:
        raise FormulaError("A number in this formula is too large or too small.")
    return value


def _digits(value: Fraction) -> int:
    return max(len(str(abs(value.numerator))), len(str(value.denominator)))


def _magnitude(value: Fraction) -> int:
    """About log10 of ``|value|``."""
    return len(str(abs(value.numerator))) - len(str(value.denominator))


def _number(value) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormulaError(f"{value!r} is not a number.")
    if not math.isfinite(value) or abs(value) >= 10**MAX_CONSTANT_DIGITS:
        raise FormulaError("A number in this formula is too large.")
    return value


def build(text: str, domains: dict[str, Domain]):
    """The SymPy expression of ``text`` (``read`` first) over symbols with ``domains``'
    assumptions. Only the judge's child process calls this: SymPy's automatic evaluation of a
    hostile formula can take long, and there it runs under a time and memory limit."""
    tree = read(text, domains)
    return _Builder(sympy_symbols(domains)).build(tree.body)


def sympy_symbols(domains: dict[str, Domain]) -> dict:
    import sympy

    return {name: sympy.Symbol(name, **_assumptions(d)) for name, d in domains.items()}


def _assumptions(domain: Domain) -> dict:
    found = {"integer": True} if domain.integer else {"real": True}
    low, high = domain.low, domain.high
    if low is not None and (low > 0 or (low == 0 and domain.low_open)):
        found["positive"] = True
    elif low is not None and low >= 0:
        found["nonnegative"] = True
    elif high is not None and (high < 0 or (high == 0 and domain.high_open)):
        found["negative"] = True
    elif high is not None and high <= 0:
        found["nonpositive"] = True
    elif domain.nonzero:
        found["nonzero"] = True
    return found


class _Builder:
    def __init__(self, symbols: dict) -> None:
        self.symbols = symbols

    def build(self, node):
        import sympy

        if isinstance(node, ast.Constant):
            value = _number(node.value)
            return sympy.Integer(value) if isinstance(value, int) else sympy.Rational(str(value))
        if isinstance(node, ast.Name):
            if node.id in self.symbols:
                return self.symbols[node.id]
            return sympy.pi if node.id == "pi" else sympy.E
        if isinstance(node, ast.UnaryOp):
            inner = self.build(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            return _bounded(self.binary(node))
        return _bounded(self.call(node))

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
        if right.is_number and (not right.is_finite or abs(right) > MAX_CONSTANT_EXPONENT):
            raise FormulaError(f"Powers above {MAX_CONSTANT_EXPONENT} are not allowed.")
        if left.is_number and right.is_number and _too_big(left, right):
            raise FormulaError("That number is too large.")
        return left**right

    def call(self, node: ast.Call):
        import sympy

        arg = self.build(node.args[0])
        name = node.func.id
        if name == "sigmoid":
            return 1 / (1 + sympy.exp(-arg))
        functions = {
            "exp": sympy.exp,
            "log": sympy.log,
            "ln": sympy.log,
            "sqrt": sympy.sqrt,
            "sin": sympy.sin,
            "cos": sympy.cos,
            "tan": sympy.tan,
            "tanh": sympy.tanh,
            "abs": sympy.Abs,
        }
        return functions[name](arg)


def _too_big(base, exponent) -> bool:
    import sympy

    if base == 0:
        return False
    return abs(float(sympy.log(abs(base), 10))) * float(abs(exponent)) > MAX_CONSTANT_DIGITS


def _bounded(expression):
    """``expression``, if it is not a constant outside 1e-400 .. 1e400 (zero is fine; so is an
    undefined one, 1/0, which the judge treats as undefined)."""
    import sympy

    if expression.free_symbols or not expression.is_number or expression.is_zero:
        return expression
    magnitude = abs(expression.evalf(5))
    if not magnitude.is_finite or magnitude.is_zero:
        return expression
    limit = sympy.Integer(10) ** MAX_CONSTANT_DIGITS
    try:
        inside = 1 / limit <= magnitude <= limit
    except TypeError:  # not a real magnitude SymPy can compare: leave it to the judge
        return expression
    if not inside:
        raise FormulaError("A number in this formula is too large or too small.")
    return expression


def _shown(node) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."
