"""The question kinds, in one table. A new kind is one class (in ``choices.py``, ``text.py`` or a
module of its own, subclassing ``base.QuestionKind``), one line in ``KINDS`` and one choice in
``models.Kind`` (the database's list, with its migration). Nothing else names a kind."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from courseapp.quizzes.kinds.base import QuestionKind
from courseapp.quizzes.kinds.choices import Multiple, Single, TrueFalse
from courseapp.quizzes.kinds.text import Formula, FreeText, Numeric, ShortText

KINDS: dict[str, QuestionKind] = {
    kind.name: kind
    for kind in (Single(), Multiple(), TrueFalse(), Numeric(), ShortText(), Formula(), FreeText())
}


def kind_of(name: str) -> QuestionKind:
    """The kind called ``name``; ValidationError for a name no kind has."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValidationError(f"Unknown question kind {name!r}.") from None


def hand_graded() -> list[str]:
    """The names of the kinds a TA grades, for a query: ``filter(kind__in=hand_graded())``."""
    return [name for name, kind in KINDS.items() if kind.hand_graded]
