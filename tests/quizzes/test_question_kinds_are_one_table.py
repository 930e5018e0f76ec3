"""Each question kind is one class listed in one table (``courseapp.quizzes.kinds.KINDS``): the
scoring, the attempt page and the statistics ask it, and nothing else names a kind."""

import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from courseapp.quizzes import scoring
from courseapp.quizzes.kinds import KINDS, hand_graded, kind_of
from courseapp.quizzes.kinds.base import AnswerError, QuestionKind, right_or_not
from courseapp.quizzes.models import Kind

ROOT = Path(__file__).resolve().parents[2]


class Integer(QuestionKind):
    """A toy kind: a whole number, right when it equals the key's."""

    name, key_fields, hint = "integer", frozenset({"answer"}), "a whole number"

    def key_clean(self, key, n_choices):
        if not isinstance(key.get("answer"), int):
            raise ValidationError("The key's answer must be a whole number.")
        return {"answer": key["answer"]}

    def answer_clean(self, value, n_choices):
        if not isinstance(value, int) or isinstance(value, bool):
            raise AnswerError("Answer with a whole number.")
        return value

    def score(self, points, key, value, n_choices):
        return right_or_not(points, value == key["answer"])

    def key_text(self, key, choices):
        return str(key["answer"])


def test_it_lists_every_kind_the_database_knows_and_no_other():
    assert set(KINDS) == set(Kind.values)
    assert hand_graded() == [Kind.FREE_TEXT]


def test_it_refuses_a_kind_no_class_has():
    with pytest.raises(ValidationError, match="Unknown question kind 'essay'"):
        kind_of("essay")
    with pytest.raises(ValidationError, match="Unknown question kind"):
        scoring.key_validate("essay", {}, [])


def test_a_new_kind_is_one_class_and_one_line(monkeypatch):
    monkeypatch.setitem(KINDS, "integer", Integer())

    key = scoring.key_validate("integer", {"answer": 42}, [])
    with pytest.raises(ValidationError, match="fields a integer key does not: rubric"):
        scoring.key_validate("integer", {"answer": 42, "rubric": ""}, [])
    with pytest.raises(ValidationError, match="has no choices"):
        scoring.key_validate("integer", {"answer": 42}, ["a", "b"])
    question = SimpleNamespace(kind="integer", key=key, points=Decimal(2), choices=[])

    assert scoring.answer_clean(question, 42) == 42
    with pytest.raises(AnswerError, match="whole number"):
        scoring.answer_clean(question, "42")
    assert scoring.score(question, 42) == (Decimal(2), "Right.")
    assert scoring.score(question, 41) == (Decimal(0), "Not the answer.")
    assert scoring.score(question, None) == (Decimal(0), "Not answered.")


MEMBERS, NAMES = "|".join(Kind.names), "|".join(re.escape(name) for name in Kind.values)
NAMED = re.compile(rf"""(?<!\w)Kind\.(?:{MEMBERS})\b|["'](?:{NAMES})["']""")
ALLOWED = {"courseapp/quizzes/models.py"}  # the database's list of choices


def test_nothing_outside_the_kinds_names_a_kind():
    found = []
    for top in ("courseapp", "grading", "autograder", "templates", "static"):
        for path in (ROOT / top).rglob("*"):
            relative = path.relative_to(ROOT).as_posix()
            if path.suffix not in (".py", ".html", ".js") or "migrations" in path.parts:
                continue
            if relative.startswith("courseapp/quizzes/kinds/") or relative in ALLOWED:
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if NAMED.search(line):
                    found.append(f"{relative}:{number}: {line.strip()}")
    assert found == []
