"""Each question kind: what a key must hold, what an answer may be, and what an answer earns.

Keys (``Question.key``) by kind; a key with any other field is refused::

    single      {"answer": 2}                       index into ``choices``
    multiple    {"answers": [0, 2], "partial": "all_or_nothing" | "right_minus_wrong"}
    true_false  {"answer": true}
    numeric     {"answer": "0.25", "abs_tol": "0.001", "rel_tol": "0"}   (numbers or their text)
    short_text  {"accepted": ["dropout"], "regex": "", "case_sensitive": false}
    formula     {"answer": "theta - eta*dR/dtheta", "symbols": ["theta", "eta", "dR", "dtheta"]}
    free_text   {"rubric": "..."}                   graded by hand

``right_minus_wrong``: the share of right choices ticked minus the share of wrong ones, never
below 0. Numeric keys are kept as decimal text and compared in decimal (``numeric``). A short-text
regex is RE2 syntax, matched in linear time (no backreferences or lookarounds). Formula symbols
may declare where they live (``courseapp.quizzes.formula``). Answers are JSON: an index, a list of
indexes, true/false, or text (a JSON number is taken for a numeric answer).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import re2
from django.core.exceptions import ValidationError

from courseapp.quizzes import formula, judge, numeric
from courseapp.quizzes.models import Kind

MAX_TEXT = {Kind.SHORT_TEXT: 500, Kind.FORMULA: 300, Kind.FREE_TEXT: 20_000, Kind.NUMERIC: 60}
PARTIAL_RULES = ("all_or_nothing", "right_minus_wrong")
MAX_CHOICES = 20
MAX_CHOICE_TEXT = 1000
MAX_ACCEPTED = 50
MAX_PATTERN = 500
MAX_RUBRIC = 10_000
KEY_FIELDS = {
    Kind.SINGLE: {"answer"}, Kind.MULTIPLE: {"answers", "partial"}, Kind.TRUE_FALSE: {"answer"},
    Kind.NUMERIC: {"answer", "abs_tol", "rel_tol"},
    Kind.SHORT_TEXT: {"accepted", "regex", "case_sensitive"},
    Kind.FORMULA: {"answer", "symbols"}, Kind.FREE_TEXT: {"rubric"},
}  # fmt: skip


class AnswerError(ValueError):
    """An answer of the wrong shape for its question (a client's mistake): refused, and recorded
    as refused."""


@dataclass(frozen=True)
class Unreadable:
    """A save whose body is not ``{"value": ...}`` (not JSON, another shape): refused, and
    recorded as refused, like an answer of the wrong shape."""

    body: object
    reason: str = 'Send a JSON object with one field, "value".'


def key_validate(kind: str, key, choices) -> dict:
    """``key`` if it is a key for ``kind`` (with defaults filled in); ValidationError naming the
    field if not. A formula key is tried by the judge: call this outside any transaction."""
    if kind not in KEY_FIELDS:
        raise ValidationError(f"Unknown question kind {kind!r}.")
    if not isinstance(key, dict):
        raise ValidationError("The key must be a mapping.")
    unknown = set(key) - KEY_FIELDS[kind]
    if unknown:
        raise ValidationError(
            f"The key has fields a {kind} key does not: {', '.join(sorted(map(str, unknown)))} "
            f"(it takes {', '.join(sorted(KEY_FIELDS[kind]))})."
        )
    n = _choices_count(kind, choices)
    return _KEY_CHECKS[kind](key, n)


def _choices_count(kind: str, choices) -> int:
    if kind not in (Kind.SINGLE, Kind.MULTIPLE):
        if choices:
            raise ValidationError(f"A {kind} question has no choices.")
        return 0
    if not isinstance(choices, list) or not 2 <= len(choices) <= MAX_CHOICES:
        raise ValidationError(f"A choice question needs 2 to {MAX_CHOICES} choices, as a list.")
    for number, choice in enumerate(choices):
        if not isinstance(choice, str) or not choice.strip() or len(choice) > MAX_CHOICE_TEXT:
            raise ValidationError(
                f"Choice {number} must be text of 1 to {MAX_CHOICE_TEXT:,} characters."
            )
        _storable(choice, f"Choice {number}")
    if len(set(choices)) != len(choices):
        raise ValidationError("Two choices have the same text.")
    return len(choices)


def _storable(text: str, what: str) -> None:
    if "\x00" in text:
        raise ValidationError(f"{what} contains a NUL character.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(f"{what} is not valid Unicode text.") from exc


def _single_key(key: dict, n: int) -> dict:
    if not _index(key.get("answer"), n):
        raise ValidationError(f"The key's answer must be a choice number 0-{n - 1}.")
    return {"answer": key["answer"]}


def _multiple_key(key: dict, n: int) -> dict:
    answers = key.get("answers")
    if not isinstance(answers, list) or not answers or not all(_index(a, n) for a in answers):
        raise ValidationError(f"The key's answers must be a list of choice numbers 0-{n - 1}.")
    if len(set(answers)) != len(answers):
        raise ValidationError("The key's answers name a choice twice.")
    partial = key.get("partial", "all_or_nothing")
    if partial not in PARTIAL_RULES:
        raise ValidationError(f"partial must be one of {', '.join(PARTIAL_RULES)}.")
    return {"answers": sorted(answers), "partial": partial}


def _true_false_key(key: dict, n: int) -> dict:
    if not isinstance(key.get("answer"), bool):
        raise ValidationError("The key's answer must be true or false.")
    return {"answer": key["answer"]}


def _numeric_key(key: dict, n: int) -> dict:
    found = {}
    for field, default in (("answer", None), ("abs_tol", "0"), ("rel_tol", "0")):
        value = numeric.read_decimal(numeric.number_text(key.get(field, default)))
        if value is None:
            raise ValidationError(f"The key's {field} must be a finite number (0.25, 1e-3).")
        if field != "answer" and value < 0:
            raise ValidationError(f"The key's {field} must be 0 or more.")
        found[field] = str(value)
    return found


def _short_text_key(key: dict, n: int) -> dict:
    accepted, regex = key.get("accepted", []), key.get("regex", "")
    if regex is None:
        regex = ""
    if (
        not isinstance(accepted, list)
        or len(accepted) > MAX_ACCEPTED
        or not all(
            isinstance(a, str) and a.strip() and len(a) <= MAX_TEXT[Kind.SHORT_TEXT]
            for a in accepted
        )
    ):
        raise ValidationError(
            f"accepted must be a list of at most {MAX_ACCEPTED} answers, each of 1 to "
            f"{MAX_TEXT[Kind.SHORT_TEXT]} characters."
        )
    for a in accepted:
        _storable(a, "An accepted answer")
    if not isinstance(regex, str) or len(regex) > MAX_PATTERN:
        raise ValidationError(f"regex must be text of at most {MAX_PATTERN} characters.")
    if not accepted and not regex:
        raise ValidationError("A short-text key needs accepted answers or a regex.")
    sensitive = key.get("case_sensitive", False)
    if not isinstance(sensitive, bool):
        raise ValidationError("case_sensitive must be true or false.")
    if regex:
        _storable(regex, "The regex")
        try:
            _pattern(regex, sensitive)
        except Exception as exc:  # re2.error carries RE2's own message
            raise ValidationError(
                f"The regex is not one we can match safely (RE2 syntax: no backreferences or "
                f"lookarounds): {exc}."
            ) from exc
    return {"accepted": accepted, "regex": regex, "case_sensitive": sensitive}


@functools.lru_cache(maxsize=512)
def _pattern(regex: str, case_sensitive: bool):
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.log_errors = False
    return re2.compile(regex, options)


def _formula_key(key: dict, n: int) -> dict:
    symbols, answer = key.get("symbols", []), key.get("answer")
    try:
        formula.symbol_domains(symbols)
        formula.read(answer, symbols)
    except formula.FormulaError as exc:
        raise ValidationError(f"The key's formula: {exc}") from exc
    try:
        problem = judge.formula_key_check(key=answer, symbols=symbols)
    except judge.JudgeUnavailable as exc:
        raise ValidationError(f"The key's formula could not be checked now ({exc}).") from exc
    if problem:
        raise ValidationError(f"The key's formula: {problem}")
    return {"answer": answer, "symbols": symbols}


def _free_text_key(key: dict, n: int) -> dict:
    rubric = key.get("rubric", "")
    if not isinstance(rubric, str) or len(rubric) > MAX_RUBRIC:
        raise ValidationError(f"rubric must be text of at most {MAX_RUBRIC:,} characters.")
    _storable(rubric, "The rubric")
    return {"rubric": rubric}


_KEY_CHECKS = {
    Kind.SINGLE: _single_key, Kind.MULTIPLE: _multiple_key, Kind.TRUE_FALSE: _true_false_key,
    Kind.NUMERIC: _numeric_key, Kind.SHORT_TEXT: _short_text_key, Kind.FORMULA: _formula_key,
    Kind.FREE_TEXT: _free_text_key,
}  # fmt: skip


def _index(value, n: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n


def answer_clean(question, value):
    """``value`` as stored for ``question``; AnswerError with the reason if it is not an answer
    of that kind (null included: there is nothing to save)."""
    kind, n = question.kind, len(question.choices or [])
    if isinstance(value, Unreadable):
        raise AnswerError(value.reason)
    if value is None:
        raise AnswerError("No answer was sent (null): send a choice's number, a list of them, "
                          "true or false, or text.")  # fmt: skip
    if kind == Kind.SINGLE:
        if not _index(value, n):
            raise AnswerError(f"Choose one of the choices 0-{n - 1}.")
        return value
    if kind == Kind.MULTIPLE:
        if not isinstance(value, list) or len(value) > n or not all(_index(v, n) for v in value):
            raise AnswerError(f"Choose among the choices 0-{n - 1}, each at most once.")
        if len(set(value)) != len(value):
            raise AnswerError(f"Choose among the choices 0-{n - 1}, each at most once.")
        return sorted(value)
    if kind == Kind.TRUE_FALSE:
        if not isinstance(value, bool):
            raise AnswerError("Answer true or false.")
        return value
    if kind == Kind.NUMERIC:
        value = numeric.number_text(value)
        if value is None:
            raise AnswerError("Answer with a finite number, as a number or as text.")
    if not isinstance(value, str):
        raise AnswerError("Answer with text.")
    if len(value) > MAX_TEXT[kind]:
        raise AnswerError(f"The answer is longer than {MAX_TEXT[kind]:,} characters.")
    try:
        _storable(value, "The answer")
    except ValidationError as exc:
        raise AnswerError(exc.messages[0]) from None
    return value


def answer_warning(question, value) -> str:
    """What a student should know about a saved answer before submitting (a number or a formula
    that cannot be read); "" if nothing. Cheap: the formula is only read, not judged."""
    if value in (None, ""):
        return ""
    if question.kind == Kind.NUMERIC and numeric.read_decimal(value) is None:
        return "This is not a number we can read (write 0.5, -2 or 5e-1)."
    if question.kind == Kind.FORMULA:
        try:
            formula.read(value, formula.symbol_domains(question.key.get("symbols", [])))
        except formula.FormulaError as exc:
            return str(exc)
    return ""


def _normal(text: str, case_sensitive: bool) -> str:
    text = " ".join(text.split()).strip(" .;!")
    return text if case_sensitive else text.casefold()


def score(question, value) -> tuple[Decimal | None, str]:
    """The points ``value`` earns on ``question`` and a word on why; None for free text (a TA
    grades it). A formula goes to the judge: ``judge.JudgeUnavailable`` when no verdict could be
    had (never a score), and never call this inside a transaction."""
    points, key, kind = Decimal(question.points), question.key, question.kind
    if kind == Kind.FREE_TEXT:
        return None, ""
    if value in (None, "", []):
        return Decimal(0), "Not answered."
    if kind in (Kind.SINGLE, Kind.TRUE_FALSE):
        right = value == key["answer"]
    elif kind == Kind.MULTIPLE:
        return _multiple(points, key, set(value), len(question.choices))
    elif kind == Kind.NUMERIC:
        number = numeric.read_decimal(value)
        if number is None:
            return Decimal(0), "Not a number."
        right = numeric.within(
            number, _decimal(key["answer"]), abs_tol=_decimal(key.get("abs_tol", 0)),
            rel_tol=_decimal(key.get("rel_tol", 0)),
        )  # fmt: skip
    elif kind == Kind.SHORT_TEXT:
        sensitive = key["case_sensitive"]
        given = _normal(value, sensitive)
        right = any(given == _normal(a, sensitive) for a in key["accepted"]) or bool(
            key["regex"] and _pattern(key["regex"], sensitive).fullmatch(value.strip())
        )
    elif kind == Kind.FORMULA:
        judged = judge.formula_judge(answer=value, key=key["answer"], symbols=key["symbols"])
        return (points if judged.right else Decimal(0)), judged.feedback
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return (points if right else Decimal(0)), ("Right." if right else "Not the answer.")


def _decimal(value) -> Decimal:
    """A numeric key's field: decimal text (as keys are kept), or a number of an older key."""
    return numeric.read_decimal(numeric.number_text(value))


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
