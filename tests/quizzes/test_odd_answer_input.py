"""Odd input to the answer API: every body that is not an answer of the question's kind gets a
400 with the reason, is recorded as refused, and changes no answer; nothing is ever a 500. On
PostgreSQL too (NUL characters and lone surrogates are what it refuses to store)."""

from __future__ import annotations

import json

import pytest

from courseapp.quizzes import attempts
from courseapp.quizzes.models import AnswerSave

BASE = "/api/courses/pmldl/quizzes/week1/attempts/1/answers/"
KINDS = ["relu", "bn", "adam", "slope", "dropout", "gd", "why"]
ODD_VALUES = {
    "null": None,
    "a dict": {"a": 1},
    "a nested list": [[0]],
    "a huge string": "x" * 100_000,
    "a NUL": "over\x00fitting",
    "a lone surrogate": "\ud800",
    "a huge number": 10**300,
    "a boolean in a list": [True],
    "a list of strings": ["0"],
}
WRONG_FOR = {
    "relu": [True, "0", [0], 3, 1.5, 0.0, -1],
    "bn": [0, [0, 0], [0, 1, 2, 3, 4], "0,1", [True], [-1], [0.0]],
    "adam": [1, 0, "true", [True]],
    "slope": [True, [0.25], {"v": 1}],
    "dropout": [1, True, ["overfitting"]],
    "gd": [2, ["theta"], False],
    "why": [3, [], True],
}


@pytest.fixture
def client(api_as, week1, student):
    client = api_as(student)
    assert client.post("/api/courses/pmldl/quizzes/week1/attempts/").status_code == 201
    return client


def _put_json(client, slug: str, body: str):
    return client.generic("PUT", f"{BASE}{slug}/", body, content_type="application/json")


def _refused_one_more(before: int, reason: str = "") -> None:
    assert AnswerSave.objects.count() == before + 1
    last = AnswerSave.objects.latest("pk")
    assert not last.accepted and last.refusal
    assert reason in last.refusal


@pytest.mark.parametrize("slug", KINDS)
@pytest.mark.parametrize("label", ODD_VALUES)
def test_an_odd_value_is_a_400_and_recorded_as_refused(client, slug, label):
    before = AnswerSave.objects.count()

    response = _put_json(client, slug, json.dumps({"value": ODD_VALUES[label]}))  # ASCII

    assert response.status_code == 400, response.content[:300]
    assert response.data["detail"]
    _refused_one_more(before)


@pytest.mark.parametrize(
    ("slug", "value"), [(slug, value) for slug, values in WRONG_FOR.items() for value in values]
)
def test_a_value_of_another_kind_is_a_400_with_the_reason(client, slug, value):
    before = AnswerSave.objects.count()

    response = client.put(f"{BASE}{slug}/", {"value": value}, format="json")

    assert response.status_code == 400 and response.data["detail"]
    _refused_one_more(before, response.data["detail"])


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[0]",
        "0",
        "null",
        '{"value": 0, "extra": 1}',
        '{"answer": 0}',
        "{}",
        '{"value": NaN}',
        '{"value": Infinity}',
        "[" * 100_000,
        '{"value": ' + "9" * 5000 + "}",
        '{"value": 1e999999}',
    ],
    ids=[
        "empty",
        "text",
        "list",
        "number",
        "null",
        "extra",
        "other-field",
        "no-field",
        "nan",
        "infinity",
        "deep",
        "long-int",
        "inf-float",
    ],
)
def test_a_body_that_is_not_an_answer_is_a_400_and_recorded_as_refused(client, body):
    before = AnswerSave.objects.count()

    response = _put_json(client, "slope", body)

    assert response.status_code == 400, response.content[:300]
    _refused_one_more(before)


def test_a_body_over_the_upload_limit_is_a_400(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = _put_json(client, "dropout", '{"value": "' + "x" * 2000 + '"}')

    assert response.status_code in (400, 413)
    assert not AnswerSave.objects.filter(accepted=True).exists()


def test_an_unknown_question_is_a_404_and_the_answers_stand(client):
    assert client.put(f"{BASE}relu/", {"value": 0}, format="json").status_code == 200

    assert client.put(f"{BASE}nope/", {"value": 0}, format="json").status_code == 404
    assert client.put(f"{BASE}relu/", {"value": None}, format="json").status_code == 400

    assert list(AnswerSave.objects.filter(accepted=True).values_list("value", flat=True)) == [0]


@pytest.mark.parametrize(("sent", "stored"), [(0.251, "0.251"), (1e-3, "0.001"), (-2, "-2")])
def test_a_json_number_is_a_numeric_answer_kept_as_its_shortest_text(client, sent, stored):
    response = client.put(f"{BASE}slope/", {"value": sent}, format="json")

    assert response.status_code == 200
    assert AnswerSave.objects.get().value == stored


def test_refused_saves_count_towards_the_attempts_limit(client, monkeypatch):
    monkeypatch.setattr(attempts, "MAX_SAVES", 2)
    for _ in range(2):
        assert client.put(f"{BASE}relu/", {"value": None}, format="json").status_code == 400

    assert client.put(f"{BASE}relu/", {"value": None}, format="json").status_code == 400
    assert client.put(f"{BASE}relu/", {"value": 0}, format="json").status_code == 409
    assert AnswerSave.objects.count() == 2
