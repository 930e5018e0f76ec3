"""Where a formula may change its behaviour: the points the judge adds to its sample so that an
answer that is wrong only on one side of a kink or a threshold is seen to be wrong.

Points drawn at random, however many, miss a difference that lives only beyond the range drawn
(``x + (x - 1000 + abs(x - 1000))`` is ``x`` for every x below 1000) or in a narrow window
between them (a tent of width 1e-6 built from ``abs``). Such a difference switches on where an
argument of ``abs``, of a root, a power, ``log``, ``exp`` or a trigonometric or hyperbolic function
crosses zero (a sine's does not: it has no threshold). So, along each symbol's axis through two
base points, the real roots of every such
argument that is a polynomial there (with any ``abs`` inside it taken both ways) are found, and
the judge samples each root, the midpoint between each two neighbouring roots, and a point beyond
the outermost ones on each side; then points that combine those values across symbols.

Runs only in the judge's child process, under its time and memory limits; imports no Django.
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import sympy

from .formula import Domain

MAX_DEGREE = 8  # exact real roots of a polynomial up to this degree
MAX_SIGN_CHOICES = 8  # ways to take the abs inside one argument
MAX_VALUES = 24  # values per symbol
COMBINED_POINTS = 8
DIGITS = 450  # an irrational root is kept to this many digits (constants stay above 1e-400)


def critical_points(
    expressions, domains: dict[str, Domain], symbols: dict, bases: list, *, seed: str
) -> list[dict]:
    """Points (SymPy symbol → rational) at, between and beyond the roots of the function
    arguments in ``expressions``, inside the symbols' ``domains``; ``bases``: points (SymPy
    symbol → rational) whose axes are searched."""
    arguments = _arguments(sympy.Tuple(*expressions))
    if not arguments:
        return []
    names = {symbols[name]: name for name in domains}
    roots: dict = {symbol: set() for symbol in names}
    for base in bases:
        for argument in arguments:
            for symbol in argument.free_symbols & set(names):
                others = {s: v for s, v in base.items() if s != symbol}
                roots[symbol].update(_roots(argument.xreplace(others), symbol))
    candidates = {
        s: _around(sorted(found), domains[names[s]]) for s, found in roots.items() if found
    }
    points = _combine({s: v for s, v in candidates.items() if v}, bases, seed)
    seen = {tuple(sorted(b.items(), key=str)) for b in bases}
    unique = []
    for point in points:
        marker = tuple(sorted(point.items(), key=str))
        if marker not in seen:
            seen.add(marker)
            unique.append(point)
    return unique


def _arguments(expression) -> list:
    """The arguments whose sign change can switch a difference on, each with the abs inside it
    taken both ways."""
    found = []
    for node in sympy.preorder_traversal(expression):
        if isinstance(node, sympy.Abs | sympy.log | sympy.exp | sympy.tanh):
            found.append(node.args[0])
        elif isinstance(node, sympy.Pow):
            base, exponent = node.args
            if base.free_symbols and not exponent.is_Integer:
                found.append(base)
            if exponent.free_symbols:
                found.append(exponent)
    unfolded = []
    for argument in dict.fromkeys(a for a in found if a.free_symbols):
        unfolded.extend(_without_abs(argument))
    return list(dict.fromkeys(unfolded))


def _without_abs(argument) -> list:
    inner = sorted(argument.atoms(sympy.Abs), key=sympy.count_ops)
    if not inner:
        return [argument]
    variants = []
    for signs in itertools.islice(itertools.product((1, -1), repeat=len(inner)), MAX_SIGN_CHOICES):
        variant = argument
        for atom, sign in zip(inner, signs, strict=True):
            variant = variant.xreplace({atom: sign * atom.args[0]})
        variants.append(variant)
    return variants


def _roots(argument, symbol) -> list:
    """The real roots of ``argument`` in ``symbol`` as SymPy rationals, if it is a polynomial of
    low degree there; [] otherwise."""
    if not argument.is_polynomial(symbol):
        return []
    try:
        poly = sympy.Poly(argument, symbol)
        if not 1 <= poly.degree() <= MAX_DEGREE:
            return []
        if poly.domain.is_ZZ or poly.domain.is_QQ:
            roots = poly.real_roots()
        else:
            roots = [r for r in poly.nroots(n=60) if r.is_real]
    except (MemoryError, RecursionError):
        raise  # the child's own limits: it reports them
    except Exception:  # SymPy cannot root it (no convergence, a domain it cannot handle): no points
        return []
    return [r if r.is_Rational else sympy.Rational(str(r.evalf(DIGITS))) for r in roots]


def _around(roots: list, domain: Domain) -> list:
    """Each root, the midpoints between neighbours, and a point beyond each end, as Fractions
    inside ``domain`` (its integers next to each, for an integer domain)."""
    found = [Fraction(int(r.p), int(r.q)) for r in roots]
    low, high = found[0] - max(1, abs(found[0])), found[-1] + max(1, abs(found[-1]))
    if domain.low is not None and low < domain.low:
        low = (domain.low + found[0]) / 2  # between the domain's end and the first root
    if domain.high is not None and high > domain.high:
        high = (found[-1] + domain.high) / 2
    values = [low, high, *found, *((a + b) / 2 for a, b in itertools.pairwise(found))]
    if domain.integer:
        values = [Fraction(v.numerator // v.denominator + k) for v in values for k in (0, 1)]
    return [v for v in dict.fromkeys(values) if domain.contains(v)][:MAX_VALUES]


def _combine(candidates: dict, bases: list, seed: str) -> list:
    """Along each axis through each base point, then across symbols: every symbol past its
    outermost roots together, and combinations drawn at random."""
    points = []
    for base in bases:
        for symbol, values in candidates.items():
            points += [{**base, symbol: _rational(v)} for v in values]
    if len(candidates) > 1:
        rng = random.Random(seed)
        base = bases[0]
        for pick in (min, max):
            points.append({**base, **{s: _rational(pick(v)) for s, v in candidates.items()}})
        for _ in range(COMBINED_POINTS):
            points.append({**base, **{s: _rational(rng.choice(v)) for s, v in candidates.items()}})
    return points


def _rational(value: Fraction):
    return sympy.Rational(value.numerator, value.denominator)
