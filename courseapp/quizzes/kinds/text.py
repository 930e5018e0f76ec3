"""The kinds answered with text: a number, a short text, a formula, or free text for a TA."""

from __future__ import annotations

import functools
from decimal import Decimal

import re2
from django.core.exceptions import ValidationError

from courseapp.quizzes import formula, judge, numeric
from courseapp.quizzes.kinds.base import AnswerError, QuestionKind, right_or_not, storable

MAX_ACCEPTED = 50
MAX_PATTERN = 500
MAX_RUBRIC = 10_000


class Numeric(QuestionKind):
    """``{"answer": "0.25", "abs_tol": "0.001", "rel_tol": "0"}`` (numbers or their text), kept as
    decimal text and compared in decimal (``courseapp.quizzes.numeric``). A JSON number is taken
    for an answer."""

    name, key_fields = "numeric", frozenset({"answer", "abs_tol", "rel_tol"})
    max_text, hint, input_mode = 60, "a number", "decimal"

    def key_clean(self, key, n_choices):
        found = {}
        for field, default in (("answer", None), ("abs_tol", "0"), ("rel_tol", "0")):
            value = numeric.read_decimal(numeric.number_text(key.get(field, default)))
            if value is None:
                raise ValidationError(f"The key's {field} must be a finite number (0.25, 1e-3).")
            if field != "answer" and value < 0:
                raise ValidationError(f"The key's {field} must be 0 or more.")
            found[field] = str(value)
        return found

    def answer_clean(self, value, n_choices):
        value = numeric.number_text(value)
        if value is None:
            raise AnswerError("Answer with a finite number, as a number or as text.")
        return super().answer_clean(value, n_choices)

    def answer_warning(self, value, key):
        if numeric.read_decimal(value) is None:
            return "This is not a number we can read (write 0.5, -2 or 5e-1)."
        return ""

    def score(self, points, key, value, n_choices):
        number = numeric.read_decimal(value)
        if number is None:
            return Decimal(0), "Not a number."
        right = numeric.within(
            number,
            _decimal(key["answer"]),
            abs_tol=_decimal(key.get("abs_tol", 0)),
            rel_tol=_decimal(key.get("rel_tol", 0)),
        )
        return right_or_not(points, right)

    def key_text(self, key, choices):
        tolerance = key.get("abs_tol")
        return f"{key['answer']} ± {tolerance}" if tolerance and tolerance != "0" else key["answer"]


def _decimal(value) -> Decimal:
    """A numeric key's field: decimal text (as keys are kept), or a number of an older key."""
    return numeric.read_decimal(numeric.number_text(value))


class ShortText(QuestionKind):
    """``{"accepted": ["dropout"], "regex": "", "case_sensitive": false}``. The regex is RE2
    syntax, matched in linear time (no backreferences or lookarounds)."""

    name, key_fields = "short_text", frozenset({"accepted", "regex", "case_sensitive"})
    max_text = 500

    def key_clean(self, key, n_choices):
        accepted, regex = key.get("accepted", []), key.get("regex", "")
        if regex is None:
            regex = ""
        if (
            not isinstance(accepted, list)
            or len(accepted) > MAX_ACCEPTED
            or not all(
                isinstance(a, str) and a.strip() and len(a) <= self.max_text for a in accepted
            )
        ):
            raise ValidationError(
                f"accepted must be a list of at most {MAX_ACCEPTED} answers, each of 1 to "
                f"{self.max_text} characters."
            )
        for a in accepted:
            storable(a, "An accepted answer")
        if not isinstance(regex, str) or len(regex) > MAX_PATTERN:
            raise ValidationError(f"regex must be text of at most {MAX_PATTERN} characters.")
        if not accepted and not regex:
            raise ValidationError("A short-text key needs accepted answers or a regex.")
        sensitive = key.get("case_sensitive", False)
        if not isinstance(sensitive, bool):
            raise ValidationError("case_sensitive must be true or false.")
        if regex:
            storable(regex, "The regex")
            try:
                _pattern(regex, sensitive)
            except Exception as exc:  # re2.error carries RE2's own message
                raise ValidationError(
                    f"The regex is not one we can match safely (RE2 syntax: no backreferences or "
                    f"lookarounds): {exc}."
                ) from exc
        return {"accepted": accepted, "regex": regex, "case_sensitive": sensitive}

    def score(self, points, key, value, n_choices):
        sensitive = key["case_sensitive"]
        given = _normal(value, sensitive)
        right = any(given == _normal(a, sensitive) for a in key["accepted"]) or bool(
            key["regex"] and _pattern(key["regex"], sensitive).fullmatch(value.strip())
        )
        return right_or_not(points, right)

    def key_text(self, key, choices):
        return ", ".join(key["accepted"])


@functools.lru_cache(maxsize=512)
def _pattern(regex: str, case_sensitive: bool):
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.log_errors = False
    return re2.compile(regex, options)


def _normal(text: str, case_sensitive: bool) -> str:
    text = " ".join(text.split()).strip(" .;!")
    return text if case_sensitive else text.casefold()


class Formula(QuestionKind):
    """``{"answer": "theta - eta*dR/dtheta", "symbols": ["theta", "eta", "dR", "dtheta"]}``;
    symbols may declare where they live (``courseapp.quizzes.formula``). Judged apart
    (``courseapp.quizzes.judge``): never score one inside a transaction."""

    name, key_fields = "formula", frozenset({"answer", "symbols"})
    max_text, hint = 300, "a formula: * for products, ** or ^ for powers"

    def key_clean(self, key, n_choices):
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

    def answer_warning(self, value, key):
        try:
            formula.read(value, formula.symbol_domains(key.get("symbols", [])))
        except formula.FormulaError as exc:
            return str(exc)
        return ""

    def score(self, points, key, value, n_choices):
        judged = judge.formula_judge(answer=value, key=key["answer"], symbols=key["symbols"])
        return (points if judged.right else Decimal(0)), judged.feedback

    def key_text(self, key, choices):
        return f"{key['answer']} or any equivalent form"


class FreeText(QuestionKind):
    """``{"rubric": "..."}``: graded by hand."""

    name, key_fields, hand_graded = "free_text", frozenset({"rubric"}), True
    max_text, widget = 20_000, "textarea"

    def key_clean(self, key, n_choices):
        rubric = key.get("rubric", "")
        if not isinstance(rubric, str) or len(rubric) > MAX_RUBRIC:
            raise ValidationError(f"rubric must be text of at most {MAX_RUBRIC:,} characters.")
        storable(rubric, "The rubric")
        return {"rubric": rubric}

    def key_text(self, key, choices):
        return "graded by hand"
