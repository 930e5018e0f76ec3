"""Numeric answers, in decimal: what the student typed is compared with what the author wrote,
never through binary floating point (with the key 0.25 ± 0.001, 0.251 and 0.249 are right).

A number is read from text: an optional sign, digits with one decimal point or one decimal comma
(``0,251``), an optional exponent (``1e-3``), spaces around it; at most 100 digits and exponents
within ±1,000,000, so that ``1e999999999`` is refused at once instead of being computed with.
A JSON number the API receives is read from its shortest text (``repr``: 0.1 is "0.1").
"""

from __future__ import annotations

import decimal
import math
import re
from decimal import Decimal

NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")
MAX_DIGITS = 100
MAX_EXPONENT = 10**6


def number_text(value) -> str | None:
    """A JSON value as the text of a number: a string as is, an int or a float by its shortest
    text; None for anything else (booleans, NaN, infinities, lists...)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return repr(value)


def read_decimal(text) -> Decimal | None:
    """``text`` as a Decimal, exactly; None if it is not a number as described above."""
    if not isinstance(text, str) or len(text) > 200:
        return None
    text = text.strip().replace("−", "-")
    if not NUMBER.fullmatch(text):
        return None
    mantissa, _, exponent = text.lower().partition("e")
    if sum(c.isdigit() for c in mantissa) > MAX_DIGITS:
        return None
    if exponent and abs(int(exponent)) > MAX_EXPONENT:
        return None
    return Decimal(text.replace(",", "."))


def within(value: Decimal, answer: Decimal, *, abs_tol: Decimal, rel_tol: Decimal) -> bool:
    """``|value - answer| <= max(abs_tol, rel_tol × |answer|)``, bounds included, exactly: with
    as many digits as the numbers span (1e200 - 1e-200 is not rounded to 1e200)."""
    with decimal.localcontext(_exact(value, answer, abs_tol, rel_tol)):
        return abs(value - answer) <= max(abs_tol, rel_tol * abs(answer))


def _exact(*numbers: Decimal) -> decimal.Context:
    """A context in which sums and products of ``numbers`` are exact (``Inexact`` traps)."""
    finite = [n for n in numbers if n]
    high = max((n.adjusted() for n in finite), default=0)
    low = min((n.as_tuple().exponent for n in finite), default=0)
    digits = sum(len(n.as_tuple().digits) for n in finite)
    return decimal.Context(
        prec=high - low + digits + 10,
        Emax=decimal.MAX_EMAX,
        Emin=decimal.MIN_EMIN,
        traps=[decimal.InvalidOperation, decimal.Inexact],
    )
