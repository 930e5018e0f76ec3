"""Is a student's formula the same as the key on the symbols' declared domains? Runs only in the
judge's child process (``courseapp.quizzes.judge``), under its time and memory limits.

Both are built exactly (numbers are rationals, never floats). The difference is then checked at
points drawn from every symbol's whole declared domain, zero and negatives included where the
domain has them: special values (0, ±1, ±1/2, ±2, the ends of a range) and values of every
magnitude from 1e-2 to 1e2. At each point where the key is defined:

- the answer must be defined too;
- the exact difference is zero, or SymPy knows it is not (``is_zero`` is False: a wrong answer,
  however small the difference, such as ``+ 1e-10`` or ``+ exp(-1000)``), or
- evaluated numerically, it is zero to 100 significant digits (to 1,500 at a few points, so that a
  difference hidden in a tiny constant shows) and not provably nonzero.

An answer is right when the difference is zero exactly (SymPy's automatic simplification), or zero
at every point: the sample, then the points where an argument of ``abs``, a root, ``log``, ``exp``
or another function in the answer or the key crosses zero, between and beyond them
(``critical_points``), where a difference that lives only past a threshold or in a narrow window
shows. Points where the key is undefined (1/0) are skipped; an author's key must be defined at
enough of them (``key_check``).

What SymPy raises while building or evaluating an answer is the answer's verdict (refused, with
the reason); what this project's code raises is the judge's failure. Not seen, by design: a
difference SymPy cannot prove nonzero that stays below 1e-1500 everywhere, or that switches on
only where an argument that is not a polynomial (``exp(x) - 10``) crosses zero.
"""

from __future__ import annotations

import functools
import json
import math
import random
from dataclasses import dataclass
from fractions import Fraction

import sympy
from sympy.core.evalf import PrecisionExhausted

from . import formula
from .critical_points import critical_points
from .formula import Domain, FormulaError

RIGHT, WRONG, REFUSED = "right", "wrong", "refused"
RANDOM_POINTS = 16
MIN_DEFINED = 6  # points where the key is defined, of the 30 or so drawn
LOW_DIGITS = 100
HIGH_DIGITS = 1500
HIGH_POINTS = 2  # points checked to HIGH_DIGITS
SPECIALS = (
    Fraction(0),
    Fraction(1),
    Fraction(-1),
    Fraction(1, 2),
    Fraction(-1, 2),
    Fraction(2),
    Fraction(-2),
    Fraction(3, 2),
    Fraction(-3, 2),
)


@dataclass(frozen=True)
class Verdict:
    verdict: str  # RIGHT, WRONG or REFUSED (the answer cannot be read)
    reason: str = ""
    detail: str = ""  # for staff's logs: what SymPy raised on a refused answer


class KeyError_(ValueError):
    """The key itself cannot be judged against (an author's mistake, not a student's)."""


def judge(answer: str, key: str, symbols) -> Verdict:
    """The verdict on ``answer`` against ``key`` over ``symbols`` (as a question declares them).
    Whatever the answer makes SymPy do, the verdict is the answer's: an answer SymPy cannot build
    or evaluate is refused with the reason, never a failure of the judge (which would leave the
    attempt unscored, and retried, for ever)."""
    spec = json.dumps(symbols, sort_keys=True)
    key_expression, points = _key(key, spec)
    domains = formula.symbol_domains(symbols)
    try:
        mine = formula.build(answer, domains)
        found = _verdict(mine, key_expression, points)
        if found.verdict == RIGHT and mine != key_expression:
            found = _critical_verdict(mine, key_expression, domains, points, seed=key + spec)
        return found
    except FormulaError as exc:
        return Verdict(REFUSED, f"The formula could not be read: {exc}")
    except (MemoryError, RecursionError):
        raise  # the child's own limits: it reports them
    except Exception as exc:  # SymPy could not build or evaluate it (an overflow, a complex power)
        if not _from_sympy(exc):
            raise
        return Verdict(
            REFUSED,
            "The formula could not be evaluated at every point of its symbols' domains "
            "(its numbers grow too large, or SymPy cannot compute it); write it more simply.",
            detail=f"{type(exc).__name__}: {exc}"[:300],
        )


def _critical_verdict(mine, key_expression, domains, points, *, seed: str) -> Verdict:
    """The verdict at the points where an argument of the answer or the key crosses zero, between
    such points and beyond them (``critical_points``): there a difference that the sample missed
    (past a threshold, in a narrow window) shows. A coarse comparison (30 digits of each side, a
    relative 1e-15 apart): a difference hidden in a tiny constant is the sample's to find."""
    symbols = formula.sympy_symbols(domains)
    bases = [points[0][0], points[-1][0]]  # the first special point, the last random one
    for point in critical_points((mine, key_expression), domains, symbols, bases, seed=seed):
        try:
            key_value = key_expression.xreplace(point)
            if not _defined(key_value):
                continue
            key_number = key_value.evalf(30, maxn=LOW_DIGITS)
        except (ArithmeticError, ValueError, TypeError):
            continue  # the key cannot be evaluated there: no judgement there
        value = mine.xreplace(point)
        if not _defined(value):
            return Verdict(WRONG, "Not equivalent: undefined where the key is defined.")
        if abs(value.evalf(30, maxn=LOW_DIGITS) - key_number) > (1 + abs(key_number)) * 10**-15:
            return Verdict(WRONG, "Not equivalent.")
    return Verdict(RIGHT, "Right.")


def _verdict(mine, key_expression, points) -> Verdict:
    """The verdict at the sample ``points`` (where the key is defined)."""
    difference = mine - key_expression
    if difference == 0:
        return Verdict(RIGHT, "Right.")
    if difference.is_zero is False:
        return Verdict(WRONG, "Not equivalent.")
    high = HIGH_POINTS
    for point, key_value, scale in points:
        found = _compare(mine, key_value, scale, point, high > 0)
        if found == "undefined":
            return Verdict(WRONG, "Not equivalent: undefined where the key is defined.")
        if found == "differs":
            return Verdict(WRONG, "Not equivalent.")
        if found == "tiny":
            high -= 1
    return Verdict(RIGHT, "Right.")


def _from_sympy(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside SymPy or mpmath (on the formula's account), not in this
    project's code (our bug, which the judge reports as its failure)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    filename = tb.tb_frame.f_code.co_filename if tb is not None else ""
    return any(part in filename for part in ("/sympy/", "/mpmath/", "\\sympy\\", "\\mpmath\\"))


def key_prepare(key: str, symbols) -> None:
    """Compute (and keep) the key's points now, so that judging an answer against it next costs
    only the answer's work."""
    _key(key, json.dumps(symbols, sort_keys=True))


def key_check(key: str, symbols) -> str:
    """ "" if ``key`` is a formula over ``symbols`` that the judge can compare answers with; if
    not, why (for the author)."""
    try:
        _key(key, json.dumps(symbols, sort_keys=True))
    except (FormulaError, KeyError_) as exc:
        return str(exc)
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:  # SymPy cannot build it
        if not _from_sympy(exc):
            raise
        return f"The key cannot be evaluated ({type(exc).__name__}); write it more simply."
    return ""


@functools.lru_cache(maxsize=256)
def _key(key: str, spec: str):
    """The key's expression and the points where it is defined, with its exact value there:
    computed once per key in a child process."""
    domains = formula.symbol_domains(json.loads(spec))
    expression = formula.build(key, domains)
    symbols = formula.sympy_symbols(domains)
    points, drawn = [], _points(domains, seed=key + spec)
    for values in drawn:
        point = {symbols[name]: _rational(v) for name, v in values.items()}
        try:
            value = expression.xreplace(point)
            if _defined(value):
                points.append((point, value, 1 + abs(value.evalf(20, maxn=LOW_DIGITS))))
        except (ArithmeticError, ValueError, TypeError):
            continue  # not a number SymPy can evaluate there: the key is undefined there
    if len(points) < min(MIN_DEFINED, len(drawn)):
        raise KeyError_(
            "The key is undefined at most points of its symbols' domains: declare where each "
            "symbol lives (positive, nonzero, a range)."
        )
    return expression, tuple(points)


def _compare(mine, key_value, scale, point: dict, high: bool) -> str:
    """How the answer compares with the key's ``key_value`` (of magnitude about ``scale``) at
    ``point``: "same" (exactly, or to the precision checked), "tiny" (the same numerically, and
    not provably different), "differs", or "undefined" (the answer is not defined there)."""
    value = mine.xreplace(point)
    if not _defined(value):
        return "undefined"
    difference = value - key_value
    if difference == 0:
        return "same"
    if not high:  # each side to 110 digits: as the difference to 100, without its slow retries
        digits = LOW_DIGITS + 10
        gap = abs(value.evalf(digits, maxn=2 * digits) - key_value.evalf(digits, maxn=2 * digits))
        return "tiny" if gap <= scale * 10 ** -(LOW_DIGITS - 10) else "differs"
    if abs(difference.evalf(20, maxn=LOW_DIGITS)) > scale * 10**-15:
        return "differs"
    if difference.is_zero is False:  # SymPy knows it is not zero, however small
        return "differs"
    try:
        exact = difference.evalf(15, maxn=HIGH_DIGITS, strict=True)
    except PrecisionExhausted:
        return "tiny"
    return "tiny" if exact == 0 else "differs"


def _defined(value) -> bool:
    if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return False
    number = value.evalf(15, maxn=LOW_DIGITS)
    return bool(number.is_number and number.is_finite is not False and not number.has(sympy.nan))


def _rational(value: Fraction):
    return sympy.Rational(value.numerator, value.denominator)


def _points(domains: dict[str, Domain], *, seed: str) -> list[dict[str, Fraction]]:
    """Points covering each symbol's domain: each special value for every symbol at once, then
    shifted so that symbols take different special values, then random values of every
    magnitude. The same for the same key (seeded by it), at authoring time and at each judgement."""
    rng = random.Random(seed)
    names = sorted(domains)
    specials = {name: _specials(domains[name]) for name in names}
    if not names:  # a constant: one point says it all
        return [{}]
    count = max(len(s) for s in specials.values())
    points = []
    for shift in (0, 1):
        for i in range(count):
            points.append(
                {n: specials[n][(i + shift * j) % len(specials[n])] for j, n in enumerate(names)}
            )
    for _ in range(RANDOM_POINTS):
        points.append({n: _random(domains[n], rng) for n in names})
    return points


def _specials(domain: Domain) -> list[Fraction]:
    candidates = [*SPECIALS]
    for end, is_open in ((domain.low, domain.low_open), (domain.high, domain.high_open)):
        if end is not None and not is_open:
            candidates.append(end)
    if domain.low is not None and domain.high is not None:
        candidates.append((domain.low + domain.high) / 2)
    found = [v for v in dict.fromkeys(candidates) if domain.contains(v)]
    rng = random.Random(repr(domain))
    while len(found) < 3:
        found.append(_random(domain, rng))
    return found


def _random(domain: Domain, rng: random.Random) -> Fraction:
    """A value in ``domain``: uniform in a range (exactly, however narrow); elsewhere of magnitude
    1e-2 .. 1e2 from the finite end (or from 0), with either sign where the domain allows."""
    low, high = domain.low, domain.high
    if low is not None and high is not None:
        if domain.integer:
            return Fraction(rng.randint(math.ceil(low), math.floor(high)))
        return low + (high - low) * Fraction(rng.randrange(10**6 + 1), 10**6)
    for _ in range(1000):
        magnitude = Fraction(round(10 ** rng.uniform(-2, 2), 6)).limit_denominator(10**6)
        if domain.low is not None:
            value = domain.low + magnitude
        elif domain.high is not None:
            value = domain.high - magnitude
        else:
            value = magnitude if rng.random() < 0.5 else -magnitude
        value = Fraction(round(value)) if domain.integer else value.limit_denominator(10**6)
        if domain.contains(value):
            return value
    raise KeyError_("No value could be drawn from a symbol's domain.")  # not reachable
