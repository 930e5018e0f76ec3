"""``manage.py import_quiz`` reads the course's own quiz files (the week-1 quiz as shipped), and
says which line of a bad file is wrong instead of importing half of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from courseapp.quizzes.models import Quiz
from tests.grading.conftest import quiz  # noqa: F401  (the "Quiz 1" item)

WEEK1 = Path(__file__).resolve().parents[2] / "courseapp" / "demo" / "quizzes" / "week1.yaml"


@pytest.mark.usefixtures("quiz", "lecture")
def test_it_imports_the_shipped_week1_quiz(capsys):
    call_command("import_quiz", "--course", "pmldl", str(WEEK1))

    week1 = Quiz.objects.get(slug="week1")
    assert week1.item.name == "Quiz 1" and week1.pools.get().draw == 1
    assert week1.questions.count() == 8
    assert "8 questions" in capsys.readouterr().out


@pytest.mark.usefixtures("quiz", "lecture")
def test_a_bad_file_is_refused_whole_with_the_reason(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(WEEK1.read_text().replace("key: {answer: 0}", "key: {answer: 9}", 1))

    with pytest.raises(CommandError, match="relu-property: The key's answer must be a choice"):
        call_command("import_quiz", "--course", "pmldl", str(bad))

    assert not Quiz.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("time_limit_minutes: 10", "time_limit_minutes: ten"),
        ("shuffle_choices: true", "shuffle_choices: maybe"),
        (
            "  - {name: optimizers, draw: 1}",
            "  - {name: optimizers, draw: 1}\n  - {name: optimizers, draw: 1}",
        ),
        ("key: {answer: 0}", "key: {answer: '0'}"),
        ("slug: week1", "slug: week1\nsurprise: 1"),
    ],
    ids=["minutes", "flag", "pools", "key", "unknown"],
)
@pytest.mark.usefixtures("quiz", "lecture")
def test_a_file_with_a_mistake_is_refused_whole_with_a_reason(tmp_path, change, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(WEEK1.read_text().replace(change, message, 1))

    with pytest.raises(CommandError):
        call_command("import_quiz", "--course", "pmldl", str(bad))

    assert not Quiz.objects.exists()
