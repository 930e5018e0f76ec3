"""What a key must hold, what an answer may be, and what an answer earns, for any question; each
kind's own rules are its class in ``courseapp.quizzes.kinds`` (whose docstrings give the keys).

Keys (``Question.key``) by kind; a key with any other field is refused::

    single      {"answer": 2}                       index into ``choices``
    multiple    {"answers": [0, 2], "partial": "all_or_nothing" | "right_minus_wrong"}
    true_false  {"answer": true}
    numeric     {"answer": "0.25", "abs_tol": "0.001", "rel_tol": "0"}   (numbers or their text)
    short_text  {"accepted": ["dropout"], "regex": "", "case_sensitive": false}
    formula     {"answer": "theta - eta*dR/dtheta", "symbols": ["theta", "eta", "dR", "dtheta"]}
    free_text   {"rubric": "..."}                   graded by hand

Answers are JSON: an index, a list of indexes, true/false, or text (a JSON number is taken for a
numeric answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from courseapp.quizzes.kinds import kind_of
from courseapp.quizzes.kinds.base import AnswerError, storable

__all__ = [
    "MAX_VERSION",
    "AnswerError",
    "Unreadable",
    "answer_clean",
    "answer_warning",
    "key_validate",
    "save_body_read",
    "score",
]

MAX_CHOICES = 20
MAX_CHOICE_TEXT = 1000


@dataclass(frozen=True)
class Unreadable:
    """A save whose body is not ``{"value": ...}`` or ``{"value": ..., "version": n}`` (not JSON,
    another shape): refused, and recorded as refused, like an answer of the wrong shape."""

    body: object
    reason: str = 'Send a JSON object with the field "value" (and, optionally, "version").'


# The largest answer version a save may carry (the database's integer).
MAX_VERSION = 2**31 - 1
VERSION_WANTED = f'"version", if sent, is a whole number from 0 to {MAX_VERSION}.'


def save_body_read(body) -> tuple[object, int | None]:
    """A save's body as the answer to store and its version: ``{"value": ...}`` or
    ``{"value": ..., "version": n}`` gives the value and n (None if not sent). Any other body,
    a version that is not a whole number from 0 to ``MAX_VERSION``, or a body already
    ``Unreadable`` (not JSON) gives an ``Unreadable`` answer with the reason, which
    ``answer_clean`` refuses and the save records as refused, and no version."""
    if isinstance(body, Unreadable):
        return body, None
    if not (isinstance(body, dict) and set(body) - {"version"} == {"value"}):
        return Unreadable(body), None
    version = body.get("version")
    if version is None or (type(version) is int and 0 <= version <= MAX_VERSION):
        return body["value"], version
    return Unreadable(body, VERSION_WANTED), None


def key_validate(kind: str, key, choices) -> dict:
    """``key`` if it is a key for ``kind`` (with defaults filled in); ValidationError naming the
    field if not. A formula key is tried by the judge: call this outside any transaction."""
    question_kind = kind_of(kind)
    if not isinstance(key, dict):
        raise ValidationError("The key must be a mapping.")
    unknown = set(key) - question_kind.key_fields
    if unknown:
        raise ValidationError(
            f"The key has fields a {kind} key does not: {', '.join(sorted(map(str, unknown)))} "
            f"(it takes {', '.join(sorted(question_kind.key_fields))})."
        )
    return question_kind.key_clean(key, _choices_count(question_kind, choices))


def _choices_count(question_kind, choices) -> int:
    if not question_kind.has_choices:
        if choices:
            raise ValidationError(f"A {question_kind.name} question has no choices.")
        return 0
    if not isinstance(choices, list) or not 2 <= len(choices) <= MAX_CHOICES:
        raise ValidationError(f"A choice question needs 2 to {MAX_CHOICES} choices, as a list.")
    for number, choice in enumerate(choices):
        if not isinstance(choice, str) or not choice.strip() or len(choice) > MAX_CHOICE_TEXT:
            raise ValidationError(
                f"Choice {number} must be text of 1 to {MAX_CHOICE_TEXT:,} characters."
            )
        storable(choice, f"Choice {number}")
    if len(set(choices)) != len(choices):
        raise ValidationError("Two choices have the same text.")
    return len(choices)


def answer_clean(question, value):
    """``value`` as stored for ``question``; AnswerError with the reason if it is not an answer
    of that kind (null included: there is nothing to save)."""
    if isinstance(value, Unreadable):
        raise AnswerError(value.reason)
    if value is None:
        raise AnswerError(
            "No answer was sent (null): send a choice's number, a list of them, true or false, "
            "or text."
        )
    return kind_of(question.kind).answer_clean(value, len(question.choices or []))


def answer_warning(question, value) -> str:
    """What a student should know about a saved answer before submitting (a number or a formula
    that cannot be read); "" if nothing. Cheap: a formula is only read, not judged."""
    if value in (None, ""):
        return ""
    return kind_of(question.kind).answer_warning(value, question.key)


def score(question, value) -> tuple[Decimal | None, str]:
    """The points ``value`` earns on ``question`` and a word on why; None for a hand-graded kind
    (a TA grades it). A formula goes to the judge: ``judge.JudgeUnavailable`` when no verdict
    could be had (never a score), and never call this inside a transaction."""
    question_kind = kind_of(question.kind)
    if question_kind.hand_graded:
        return None, ""
    if value in (None, "", []):
        return Decimal(0), "Not answered."
    n_choices = len(question.choices or [])
    return question_kind.score(Decimal(question.points), question.key, value, n_choices)
