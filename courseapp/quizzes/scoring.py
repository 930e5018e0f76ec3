"""Each question kind: what a key must hold, what an answer may be, and what an answer earns.

Keys (``Question.key``) by kind::

    single      {"answer": 2}                       index into ``choices``
    multiple    {"answers": [0, 2], "partial": "all_or_nothing" | "right_minus_wrong"}
    true_false  {"answer": true}
    numeric     {"answer": 0.5, "abs_tol": 0.01, "rel_tol": 0}
    short_text  {"accepted": ["dropout"], "regex": "", "case_sensitive": false}
    formula     {"answer": "theta - eta*dR/dtheta", "symbols": ["theta", "eta", "dR", "dtheta"]}
    free_text   {"rubric": "..."}                   graded by hand

``right_minus_wrong``: the share of right choices ticked minus the share of wrong ones, never
below 0. Answers are JSON: an index, a list of indexes, true/false, or text.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError

from courseapp.quizzes.formula import FormulaError, formula_equivalent, parse
from courseapp.quizzes.models import Kind

MAX_TEXT = {Kind.SHORT_TEXT: 500, Kind.FORMULA: 300, Kind.FREE_TEXT: 20_000, Kind.NUMERIC: 60}
PARTIAL_RULES = ("all_or_nothing", "right_minus_wrong")


class AnswerError(ValueError):
    """An answer of the wrong shape for its question (a client's mistake); nothing is saved."""


def key_validate(kind: str, key: dict, choices: list) -> dict:
    """``key`` if it is a key for ``kind`` (with defaults filled in); ValidationError if not."""
    if not isinstance(key, dict):
        raise ValidationError("The key must be a mapping.")
    check = _KEY_CHECKS.get(kind)
    if check is None:
        raise ValidationError(f"Unknown question kind {kind!r}.")
    if kind in (Kind.SINGLE, Kind.MULTIPLE) and (
        not isinstance(choices, list)
        or len(choices) < 2
        or not all(isinstance(c, str) and c.strip() for c in choices)
    ):
        raise ValidationError("A choice question needs at least two choices, as text.")
    return check(key, len(choices or []))


def _single_key(key: dict, n: int) -> dict:
    if not _index(key.get("answer"), n):
        raise ValidationError(f"The key's answer must be a choice number 0-{n - 1}.")
    return {"answer": key["answer"]}


def _multiple_key(key: dict, n: int) -> dict:
    answers = key.get("answers")
    if not isinstance(answers, list) or not answers or not all(_index(a, n) for a in answers):
        raise ValidationError(f"The key's answers must be choice numbers 0-{n - 1}.")
    partial = key.get("partial", "all_or_nothing")
    if partial not in PARTIAL_RULES:
        raise ValidationError(f"partial must be one of {', '.join(PARTIAL_RULES)}.")
    return {"answers": sorted(set(answers)), "partial": partial}


def _true_false_key(key: dict, n: int) -> dict:
    if not isinstance(key.get("answer"), bool):
        raise ValidationError("The key's answer must be true or false.")
    return {"answer": key["answer"]}


def _numeric_key(key: dict, n: int) -> dict:
    values = [key.get("answer"), key.get("abs_tol", 0), key.get("rel_tol", 0)]
    finite = all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )
    if not finite or values[1] < 0 or values[2] < 0:
        raise ValidationError("A numeric key needs a finite answer and tolerances >= 0.")
    return {"answer": values[0], "abs_tol": values[1], "rel_tol": values[2]}


def _short_text_key(key: dict, n: int) -> dict:
    accepted, regex = key.get("accepted", []), key.get("regex", "") or ""
    if not isinstance(accepted, list) or not all(isinstance(a, str) for a in accepted):
        raise ValidationError("accepted must be a list of answers.")
    if not accepted and not regex:
        raise ValidationError("A short-text key needs accepted answers or a regex.")
    try:
        re.compile(regex)
    except re.error as exc:
        raise ValidationError(f"The regex does not compile: {exc}.") from exc
    return {"accepted": accepted, "regex": regex,
            "case_sensitive": bool(key.get("case_sensitive", False))}  # fmt: skip


def _formula_key(key: dict, n: int) -> dict:
    symbols = key.get("symbols", [])
    if not isinstance(symbols, list) or not all(
        isinstance(s, str) and s.isidentifier() for s in symbols
    ):
        raise ValidationError("symbols must be a list of names.")
    try:
        parse(str(key.get("answer", "")), symbols=symbols)
    except FormulaError as exc:
        raise ValidationError(f"The key's formula: {exc}") from exc
    return {"answer": key["answer"], "symbols": symbols}


def _free_text_key(key: dict, n: int) -> dict:
    return {"rubric": str(key.get("rubric", ""))}


_KEY_CHECKS = {
    Kind.SINGLE: _single_key, Kind.MULTIPLE: _multiple_key, Kind.TRUE_FALSE: _true_false_key,
    Kind.NUMERIC: _numeric_key, Kind.SHORT_TEXT: _short_text_key, Kind.FORMULA: _formula_key,
    Kind.FREE_TEXT: _free_text_key,
}  # fmt: skip


def _index(value, n: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n


def answer_clean(question, value):
    """``value`` as stored for ``question`` (None clears the answer); AnswerError if it is not an
    answer of that kind at all."""
    if value is None:
        return None
    kind, n = question.kind, len(question.choices or [])
    if kind == Kind.SINGLE:
        if not _index(value, n):
            raise AnswerError(f"Choose one of the choices 0-{n - 1}.")
        return value
    if kind == Kind.MULTIPLE:
        if not isinstance(value, list) or not all(_index(v, n) for v in value):
            raise AnswerError(f"Choose among the choices 0-{n - 1}.")
        return sorted(set(value))
    if kind == Kind.TRUE_FALSE:
        if not isinstance(value, bool):
            raise AnswerError("Answer true or false.")
        return value
    if not isinstance(value, str):
        raise AnswerError("Answer with text.")
    if len(value) > MAX_TEXT[kind]:
        raise AnswerError(f"The answer is longer than {MAX_TEXT[kind]:,} characters.")
    return value


def answer_warning(question, value) -> str:
    """What a student should know about a saved answer before submitting (a number or a formula
    that cannot be read); "" if nothing."""
    if value in (None, ""):
        return ""
    if question.kind == Kind.NUMERIC and _number(value) is None:
        return "This is not a number we can read (write 0.5 or 5e-1)."
    if question.kind == Kind.FORMULA:
        try:
            parse(value, symbols=question.key.get("symbols", []))
        except FormulaError as exc:
            return str(exc)
    return ""


def _number(text: str) -> float | None:
    try:
        number = float(text.strip().replace(",", ".").replace("−", "-"))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _normal(text: str, case_sensitive: bool) -> str:
    text = " ".join(text.split()).strip(" .;!")
    return text if case_sensitive else text.casefold()


def score(question, value) -> tuple[Decimal | None, str]:
    """The points ``value`` earns on ``question`` and a word on why; None for free text (a TA
    grades it)."""
    points, key, kind = Decimal(question.points), question.key, question.kind
    if kind == Kind.FREE_TEXT:
        return None, ""
    if value in (None, "", []):
        return Decimal(0), "Not answered."
    if kind in (Kind.SINGLE, Kind.TRUE_FALSE):
        right = value == key["answer"]
        return (points if right else Decimal(0)), ("Right." if right else "Not the answer.")
    if kind == Kind.MULTIPLE:
        return _multiple(points, key, set(value), len(question.choices))
    if kind == Kind.NUMERIC:
        number = _number(value)
        if number is None:
            return Decimal(0), "Not a number."
        want = key["answer"]
        tolerance = max(key["abs_tol"], key["rel_tol"] * abs(want))
        right = abs(number - want) <= tolerance
        return (points if right else Decimal(0)), ("Right." if right else "Not the answer.")
    if kind == Kind.SHORT_TEXT:
        sensitive = key["case_sensitive"]
        given = _normal(value, sensitive)
        right = any(given == _normal(a, sensitive) for a in key["accepted"]) or bool(
            key["regex"]
            and re.fullmatch(key["regex"], value.strip(), 0 if sensitive else re.IGNORECASE)
        )
        return (points if right else Decimal(0)), ("Right." if right else "Not the answer.")
    if kind == Kind.FORMULA:
        try:
            right = formula_equivalent(value, key["answer"], symbols=key["symbols"])
        except FormulaError as exc:
            return Decimal(0), f"The formula could not be read: {exc}"
        return (points if right else Decimal(0)), ("Right." if right else "Not equivalent.")
    raise ValueError(f"unknown kind {kind!r}")


def _multiple(points: Decimal, key: dict, chosen: set[int], n: int) -> tuple[Decimal, str]:
    right = set(key["answers"])
    if chosen == right:
        return points, "Right."
    if key["partial"] == "all_or_nothing":
        return Decimal(0), "Not exactly the right choices."
    wrong_total = n - len(right)
    share = Decimal(len(chosen & right)) / len(right)
    if wrong_total:
        share -= Decimal(len(chosen - right)) / wrong_total
    earned = (points * max(share, Decimal(0))).quantize(Decimal("0.001"), ROUND_HALF_UP)
    return (
        earned,
        f"{len(chosen & right)} of {len(right)} right choices, {len(chosen - right)} wrong.",
    )
