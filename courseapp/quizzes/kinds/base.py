"""What every question kind is: one object that knows its key, its answers, its score and how a
page shows it. ``courseapp.quizzes.kinds`` lists them; nothing else switches on a kind's name."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError


class AnswerError(ValueError):
    """An answer of the wrong shape for its question (a client's mistake): refused, and recorded
    as refused."""


class QuestionKind:
    """A kind of question. Subclasses set the class attributes and override what differs; the
    defaults are those of a question answered with one line of text."""

    name: str = ""
    key_fields: frozenset[str] = frozenset()
    has_choices = False  # its ``choices`` list is shown and may be shuffled
    hand_graded = False  # a TA gives the points; ``score`` returns None
    max_text = 0  # the longest text answer taken, for a text answer
    # How the attempt page asks for an answer: "choice" (one of the choices), "choices" (any of
    # them), "boolean", "text" (one line) or "textarea"; quiz.js reads the value by it.
    widget = "text"
    hint = ""  # said beside a text answer's box: "a number"
    input_mode = "text"  # the keyboard a phone shows for a text answer (HTML inputmode)

    def key_clean(self, key: dict, n_choices: int) -> dict:
        """``key`` as stored (defaults filled in); ValidationError naming the field if wrong.
        Only the kind's own fields are there: the caller refused any other."""
        raise NotImplementedError

    def answer_clean(self, value, n_choices: int):
        """``value`` as stored; AnswerError with what to send instead."""
        if not isinstance(value, str):
            raise AnswerError("Answer with text.")
        if len(value) > self.max_text:
            raise AnswerError(f"The answer is longer than {self.max_text:,} characters.")
        try:
            storable(value, "The answer")
        except ValidationError as exc:
            raise AnswerError(exc.messages[0]) from None
        return value

    def answer_warning(self, value, key: dict) -> str:
        """What a student should know about a saved answer before submitting; "" if nothing."""
        return ""

    def score(self, points: Decimal, key: dict, value, n_choices: int) -> tuple[Decimal, str]:
        """The points an answered question (``value`` not empty) earns, and a word on why."""
        raise NotImplementedError

    def answer_text(self, value, choices: list[dict]) -> str:
        """A saved answer as the review shows it; ``choices`` as the attempt shows them."""
        return str(value)

    def key_text(self, key: dict, choices: list[dict]) -> str:
        """The key as the review shows it."""
        raise NotImplementedError

    def option_labels(self, choices: list[str]) -> list[str]:
        """The options the statistics count choices of; [] for a kind without options."""
        return []

    def chose(self, answer, index: int) -> bool:
        """Whether ``answer`` chose option ``index`` of ``option_labels``."""
        return False


def right_or_not(points: Decimal, right: bool) -> tuple[Decimal, str]:
    return (points if right else Decimal(0)), ("Right." if right else "Not the answer.")


def storable(text: str, what: str) -> None:
    """ValidationError if ``text`` cannot be kept in the database (a NUL, a lone surrogate)."""
    if "\x00" in text:
        raise ValidationError(f"{what} contains a NUL character.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(f"{what} is not valid Unicode text.") from exc


def is_index(value, n: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n


def choice_texts(values, choices: list[dict]) -> str:
    """The texts of the chosen ``values`` among ``choices``, in the order the attempt shows."""
    return "; ".join(c["text"] for c in choices if c["value"] in values)
