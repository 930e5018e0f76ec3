"""The kinds answered by choosing: one choice, several, or true/false."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError

from courseapp.quizzes.kinds.base import (
    AnswerError,
    QuestionKind,
    choice_texts,
    is_index,
    right_or_not,
)

PARTIAL_RULES = ("all_or_nothing", "right_minus_wrong")


class Single(QuestionKind):
    """``{"answer": 2}``: an index into ``choices``."""

    name, key_fields, has_choices, widget = "single", frozenset({"answer"}), True, "choice"

    def key_clean(self, key, n_choices):
        if not is_index(key.get("answer"), n_choices):
            raise ValidationError(f"The key's answer must be a choice number 0-{n_choices - 1}.")
        return {"answer": key["answer"]}

    def answer_clean(self, value, n_choices):
        if not is_index(value, n_choices):
            raise AnswerError(f"Choose one of the choices 0-{n_choices - 1}.")
        return value

    def score(self, points, key, value, n_choices):
        return right_or_not(points, value == key["answer"])

    def answer_text(self, value, choices):
        return choice_texts({value}, choices)

    def key_text(self, key, choices):
        return choice_texts({key["answer"]}, choices)

    def option_labels(self, choices):
        return list(choices)

    def chose(self, answer, index):
        return answer == index


class Multiple(QuestionKind):
    """``{"answers": [0, 2], "partial": "all_or_nothing" | "right_minus_wrong"}``.
    ``right_minus_wrong``: the share of right choices ticked minus the share of wrong ones, never
    below 0."""

    name, key_fields, has_choices, widget = (
        "multiple",
        frozenset({"answers", "partial"}),
        True,
        "choices",
    )

    def key_clean(self, key, n_choices):
        answers = key.get("answers")
        if (
            not isinstance(answers, list)
            or not answers
            or not all(is_index(a, n_choices) for a in answers)
        ):
            raise ValidationError(
                f"The key's answers must be a list of choice numbers 0-{n_choices - 1}."
            )
        if len(set(answers)) != len(answers):
            raise ValidationError("The key's answers name a choice twice.")
        partial = key.get("partial", "all_or_nothing")
        if partial not in PARTIAL_RULES:
            raise ValidationError(f"partial must be one of {', '.join(PARTIAL_RULES)}.")
        return {"answers": sorted(answers), "partial": partial}

    def answer_clean(self, value, n_choices):
        wrong = AnswerError(f"Choose among the choices 0-{n_choices - 1}, each at most once.")
        if not isinstance(value, list) or len(value) > n_choices:
            raise wrong
        if not all(is_index(v, n_choices) for v in value) or len(set(value)) != len(value):
            raise wrong
        return sorted(value)

    def score(self, points, key, value, n_choices):
        right, chosen = set(key["answers"]), set(value)
        if chosen == right:
            return points, "Right."
        if key["partial"] == "all_or_nothing":
            return Decimal(0), "Not exactly the right choices."
        wrong_total = n_choices - len(right)
        share = Decimal(len(chosen & right)) / len(right)
        if wrong_total:
            share -= Decimal(len(chosen - right)) / wrong_total
        earned = (points * max(share, Decimal(0))).quantize(Decimal("0.001"), ROUND_HALF_UP)
        return (
            earned,
            f"{len(chosen & right)} of {len(right)} right choices, {len(chosen - right)} wrong.",
        )

    def answer_text(self, value, choices):
        return choice_texts(set(value), choices)

    def key_text(self, key, choices):
        return choice_texts(set(key["answers"]), choices)

    def option_labels(self, choices):
        return list(choices)

    def chose(self, answer, index):
        return isinstance(answer, list) and index in answer


class TrueFalse(QuestionKind):
    """``{"answer": true}``."""

    name, key_fields, widget = "true_false", frozenset({"answer"}), "boolean"

    def key_clean(self, key, n_choices):
        if not isinstance(key.get("answer"), bool):
            raise ValidationError("The key's answer must be true or false.")
        return {"answer": key["answer"]}

    def answer_clean(self, value, n_choices):
        if not isinstance(value, bool):
            raise AnswerError("Answer true or false.")
        return value

    def score(self, points, key, value, n_choices):
        return right_or_not(points, value == key["answer"])

    def answer_text(self, value, choices):
        return "True" if value else "False"

    def key_text(self, key, choices):
        return "True" if key["answer"] else "False"

    def option_labels(self, choices):
        return ["True", "False"]

    def chose(self, answer, index):
        return answer is (index == 0)
