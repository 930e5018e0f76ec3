"""Autosave versions (issue 19): the page numbers each answer of a question and sends the
number with the save; the server keeps no save numbered at or below the answer it holds, so a
save the page gave up on that reaches the server after a newer one changes nothing. It answers
200 with the held version ("superseded"), so the page does not retry it. A save without a
version (an old client, an API script) counts as it arrives, as before."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.utils import timezone

from courseapp.quizzes import attempts
from courseapp.quizzes.models import AnswerSave, Attempt, Question
from courseapp.quizzes.selectors import current_answers

BASE = "/api/courses/pmldl/quizzes/week1/attempts/"


def put(api, slug: str, value, version=None):
    body = {"value": value} if version is None else {"value": value, "version": version}
    return api.put(f"{BASE}1/answers/{slug}/", body, format="json")


def held(slug: str):
    attempt = Attempt.objects.get()
    return current_answers(attempt=attempt).get(Question.objects.get(slug=slug).pk)


@pytest.fixture
def api(api_as, week1, student):
    """The student's API client, with attempt 1 started."""
    api = api_as(student)
    api.post(BASE)
    return api


def test_a_late_duplicate_of_an_older_save_leaves_the_newest_held(api):
    assert put(api, "dropout", "underfit", version=1).status_code == 200
    newest = put(api, "dropout", "overfitting", version=2)
    late = put(api, "dropout", "underfit", version=1)  # given up on, arrives last

    assert newest.status_code == 200 and newest.data["version"] == 2
    assert not newest.data["superseded"]
    assert late.status_code == 200
    assert late.data["superseded"] and late.data["version"] == 2
    assert held("dropout") == "overfitting"
    refused = AnswerSave.objects.get(version=1, accepted=False)
    assert refused.refusal == "superseded: version 2 is held"


def test_the_same_version_twice_is_kept_once(api):
    """A retry of a save whose reply was lost: the first one stands."""
    put(api, "relu", 0, version=3)

    again = put(api, "relu", 0, version=3)

    assert again.status_code == 200 and again.data["superseded"]
    assert AnswerSave.objects.filter(accepted=True).count() == 1


def test_a_save_without_a_version_counts_as_it_arrives(api):
    put(api, "relu", 0, version=5)

    plain = put(api, "relu", 2)

    assert plain.status_code == 200 and not plain.data["superseded"]
    assert plain.data["version"] == 5
    assert held("relu") == 2
    assert put(api, "relu", 1, version=4).data["superseded"]  # still older than 5
    assert held("relu") == 2


def test_versions_are_per_question(api):
    put(api, "relu", 0, version=7)

    other = put(api, "adam", True, version=1)

    assert other.status_code == 200 and not other.data["superseded"]
    assert held("adam") is True


def test_the_attempt_shows_each_questions_version_for_the_page_to_count_on(api):
    put(api, "relu", 0, version=4)
    put(api, "relu", 1, version=6)

    questions = {q["slug"]: q for q in api.get(f"{BASE}1/").data["questions"]}

    assert questions["relu"]["version"] == 6 and questions["adam"]["version"] == 0


def test_the_attempt_page_starts_each_question_from_the_version_held(api, client, student):
    put(api, "relu", 0, version=9)
    client.force_login(student)

    page = client.get("/courses/pmldl/quizzes/week1/attempts/1/").content.decode()

    assert 'data-question="relu" data-widget="choice" data-version="9"' in page
    assert 'data-question="adam" data-widget="boolean" data-version="0"' in page


@pytest.mark.parametrize("version", [-1, "3", 1.5, True, 2**31, None])
def test_a_version_that_is_not_a_whole_number_is_refused_and_recorded(api, version):
    body = {"value": 0, "version": version}

    response = api.put(f"{BASE}1/answers/relu/", body, format="json")

    if version is None:  # JSON null: no version
        assert response.status_code == 200
        return
    assert response.status_code == 400 and '"version"' in response.data["detail"]
    assert AnswerSave.objects.get().accepted is False


def test_an_older_version_after_the_deadline_is_late_not_superseded(api):
    put(api, "relu", 0, version=2)
    Attempt.objects.update(deadline=timezone.now() - attempts.GRACE - datetime.timedelta(seconds=1))

    late = put(api, "relu", 1, version=1)

    assert late.status_code == 409 and "after the deadline" in late.data["detail"]


def test_the_newest_accepted_save_is_held_whatever_their_clocks_say(api):
    """Two saves racing: each reads its time before it waits for the attempt's lock, so the one
    stamped earlier (version 2, here) can take the lock second, and be accepted over version 1.
    The answer held (and graded) is the one accepted last, not the one stamped last (issue 19)."""
    attempt, relu = Attempt.objects.get(), Question.objects.get(slug="relu")
    stamped = timezone.now()

    first = attempts.answer_save(
        attempt=attempt, question=relu, value=0, version=1, now=stamped + datetime.timedelta(0, 1)
    )
    second = attempts.answer_save(attempt=attempt, question=relu, value=1, version=2, now=stamped)

    assert first.accepted and second.accepted and second.version == 2
    assert held("relu") == 1


@pytest.mark.django_db(transaction=True)
def test_two_saves_racing_with_the_same_version_keep_one(week1, student):
    """Two tabs (or a retry and its original) at once, numbered alike: the attempt's lock lets
    one in; the other finds that version held (SQLite: BEGIN IMMEDIATE; PostgreSQL: FOR UPDATE)."""
    from django.db import connection

    attempt = attempts.attempt_start(quiz=week1, student=student)
    relu = Question.objects.get(slug="relu")
    gate, results = threading.Barrier(2), []

    def save(value):
        try:
            gate.wait()
            results.append(
                attempts.answer_save(attempt=attempt, question=relu, value=value, version=3)
            )
        finally:
            connection.close()

    racing = [threading.Thread(target=save, args=(v,)) for v in (0, 1)]
    for thread in racing:
        thread.start()
    for thread in racing:
        thread.join(timeout=60)

    assert sorted((s.accepted, s.superseded) for s in results) == [(False, True), (True, False)]
    assert AnswerSave.objects.filter(accepted=True).count() == 1
