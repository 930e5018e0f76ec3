"""A quiz file that says two things at once is refused, not read one way silently: a key given
twice in a mapping (the quiz's, a question's, a key's), a YAML merge key. Values that the database
or the clock cannot hold are refused with the reason through the import API (a NUL in the item's
name, a date that overflows UTC), never a 500; a symbol's range however narrow, or written
``1e-7`` (YAML's text), is a range."""

from __future__ import annotations

import pytest
import yaml

from courseapp.quizzes.models import Question, Quiz
from tests.quizzes.conftest import QUESTIONS, quiz_yaml

IMPORT = "/api/courses/pmldl/quizzes/import/"
ONE = quiz_yaml(questions=QUESTIONS[:1])  # relu: single choice, key {answer: 0}


@pytest.fixture
def staff_api(api_as, scheme, lecture, course, instructor):
    return api_as(instructor)


def _post(api, text: str):
    return api.generic("POST", IMPORT, text.encode("utf-8"), content_type="application/yaml")


def _refused(api, text: str, match: str) -> None:
    response = _post(api, text)
    assert response.status_code == 400, response.content[:300]
    assert match in str(response.content), response.content[:300]
    assert not Quiz.objects.exists() and not Question.objects.exists()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (ONE + "slug: other\n", "given twice"),
        (ONE.replace("  key:\n", "  key: {answer: 1}\n  key:\n"), "given twice"),
        (ONE.replace("  key:\n    answer: 0\n", "  key: {answer: 1, answer: 0}\n"), "given twice"),
        (ONE + "True: 1\ntrue: 2\n", "given twice"),
        (ONE.replace("  kind: single", "  <<: {kind: multiple}\n  kind: single"), "merge key"),
        (ONE.replace("  kind: single", "  <<: [{kind: single}, {points: 3}]"), "merge key"),
    ],
    ids=[
        "top-level",
        "question",
        "flow-mapping",
        "same-value-two-spellings",
        "merge",
        "merge-list",
    ],
)
def test_a_file_that_says_two_things_is_refused(staff_api, text, match):
    assert yaml.safe_load(text)  # PyYAML alone reads each of these one way, silently
    _refused(staff_api, text, match)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"item": "Quiz\x00 1"}, "NUL"),
        ({"opens_at": "0001-01-01T00:00:00+14:00"}, "years"),
        ({"closes_at": "9999-12-31T23:59:59-14:00"}, "years"),
        ({"closes_at": "9999-12-31T23:59:59+00:00"}, "years"),
    ],
    ids=["nul-in-item", "before-year-1-in-utc", "after-9999-in-utc", "end-of-9999"],
)
def test_a_value_the_database_or_clock_cannot_hold_is_a_400(staff_api, overrides, match):
    _refused(staff_api, quiz_yaml(questions=QUESTIONS[:1], **overrides), match)


@pytest.mark.parametrize(
    "symbols",
    ["{lr: {min: 0.0000001, max: 0.0000002}, x: real}", "{lr: {min: 1e-7, max: 1e-3}, x: real}"],
    ids=["narrow", "written-1e-7"],
)
def test_a_symbols_range_however_written_is_a_range(staff_api, symbols):
    question = (
        "- slug: step\n  kind: formula\n  prompt: The step?\n"
        f"  key: {{answer: 'lr*x', symbols: {symbols}}}\n"
    )
    text = ONE.replace("questions:\n", "questions:\n" + question, 1)

    response = _post(staff_api, text)

    assert response.status_code == 201, response.content[:300]
    assert Question.objects.get(slug="step").key["answer"] == "lr*x"
