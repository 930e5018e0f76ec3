"""How many SQL queries a student's quiz requests run, through the views the quiz page uses: the
start button (a form POST), the attempt page, the autosave (the page's JS PUTs JSON to the API's
answer endpoint with the session) and the submit button. On exam day a whole class sends these
at once, so the counts are behaviour (issue 19): start reads twice after the course check and
inserts once, a save reads three times and inserts once, a submit runs as many queries whatever the
number of questions. The same through the API with a token (what bench/quiz_burst.py drives),
whole requests: start 2 + 3 + 2 = 7, save 2 + 4 + 2 = 8.

Every request first spends ``PAGE`` queries that are not the quiz's (the session, the user, the
course read with the student's role in it; ``TOKEN`` for an API client: the token with its user,
the course with the role). A write transaction shows as a SAVEPOINT and its RELEASE inside the
test's own transaction (``TRANSACTION``): on a real request they are BEGIN and COMMIT."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from courseapp.quizzes import attempts, services
from courseapp.quizzes.authoring import quiz_import
from courseapp.quizzes.models import AnswerGrade, AnswerSave, Attempt, AttemptState
from grading.models import Score
from tests.quizzes.conftest import quiz_yaml

PAGE = 3  # session, user, the course with the user's role in it
TOKEN = 2  # the token with its user, the course with the role
TRANSACTION = 2  # SAVEPOINT and RELEASE around each write transaction
# The quiz with the student's accommodation and how many attempts they made and have open (none
# open: their attempts are not read), the questions, the insert.
START = 3
# The attempt with its quiz; closing it (locked, updated); the questions; the answers; the grades'
# transaction: the attempt locked with its quiz and item (with the item's course and component,
# which the gradebook's write needs), its grades, one insert of the new ones, the attempt's score,
# the student's submitted attempts; then the gradebook's ``score_set`` (9 with its two
# savepoints: the score locked, the grading scheme, the student's extension, the insert, the
# history; not the student's role: it is the one the course check read). Savepoints included: 23.
SUBMIT = 23
# A later attempt's submit finds the score there: it is updated, without the first insert's
# savepoint, and its item is the one read with the attempt (not read again).
SUBMIT_AGAIN = SUBMIT - TRANSACTION
# Through the API the response shows the submitted attempt from what grading read (nothing more).
API_SUBMIT = SUBMIT
# The question with its quiz; the attempt locked; then, in a statement after the lock (so that it
# sees a racing save's commit on PostgreSQL), its saves counted and the question's highest version
# held; the insert.
SAVE = 4

QUIZ = "/courses/pmldl/quizzes/week1/"
ATTEMPT = QUIZ + "attempts/1/"
ANSWER = "/api/courses/pmldl/quizzes/week1/attempts/1/answers/{}/"


def choice_questions(n: int) -> list[dict]:
    return [
        {
            "slug": f"q{i}",
            "kind": "single",
            "points": 1,
            "prompt": f"Question {i}?",
            "choices": ["right", "wrong"],
            "key": {"answer": 0},
        }
        for i in range(n)
    ]


def test_start_reads_twice_and_inserts_once_after_the_course_check(
    client, week1, student, django_assert_num_queries
):
    client.force_login(student)

    with django_assert_num_queries(PAGE + START + TRANSACTION):
        response = client.post(QUIZ + "start/")

    assert response.status_code == 302 and response.url.endswith("/attempts/1/")
    attempt = Attempt.objects.get(quiz=week1, student=student)
    assert attempt.state == AttemptState.OPEN and len(attempt.question_pks) == 7


def test_an_accommodation_is_read_once_and_still_moves_the_deadline(
    client, week1, course, student, django_assert_num_queries
):
    services.accommodation_set(course=course, student=student, time_factor=1.5, extra_minutes=2)
    client.force_login(student)

    with django_assert_num_queries(PAGE + START + TRANSACTION):
        client.post(QUIZ + "start/")

    attempt = Attempt.objects.get(quiz=week1, student=student)
    assert attempt.deadline - attempt.started_at == datetime.timedelta(minutes=17)


def test_a_pool_is_drawn_from_the_same_one_read_of_the_questions(
    client, scheme, lecture, course, student, django_assert_num_queries
):
    questions = [{**q, "pool": "p"} if i >= 3 else q for i, q in enumerate(choice_questions(6))]
    quiz_import(
        course=course, text=quiz_yaml(questions=questions, pools=[{"name": "p", "draw": 2}])
    )
    client.force_login(student)

    with django_assert_num_queries(PAGE + START + TRANSACTION):
        client.post(QUIZ + "start/")

    assert len(Attempt.objects.get(student=student).question_pks) == 3 + 2


def test_a_reload_of_start_continues_with_two_reads(
    client, week1, student, django_assert_num_queries
):
    client.force_login(student)
    client.post(QUIZ + "start/")

    with django_assert_num_queries(PAGE + 2):  # the quiz (one attempt open), the attempts
        response = client.post(QUIZ + "start/")

    assert response.url.endswith("/attempts/1/")
    assert Attempt.objects.filter(student=student).count() == 1


def test_the_attempt_page_reads_three_times(client, week1, student, django_assert_num_queries):
    client.force_login(student)
    client.post(QUIZ + "start/")

    with django_assert_num_queries(PAGE + 3):  # the attempt with its quiz, questions, answers
        response = client.get(ATTEMPT)

    assert response.status_code == 200 and 'data-question="gd"' in response.content.decode()


def put(client, slug: str, value):
    """A save as the page sends it: with its version (checked in the same queries)."""
    body = json.dumps({"value": value, "version": 1})
    return client.put(ANSWER.format(slug), body, "application/json")


def test_an_autosave_runs_four_queries_and_the_answer_is_held(
    client, week1, student, django_assert_num_queries
):
    client.force_login(student)
    client.post(QUIZ + "start/")

    with django_assert_num_queries(PAGE + SAVE + TRANSACTION):
        response = put(client, "relu", 0)

    assert response.status_code == 200
    assert AnswerSave.objects.get(accepted=True).value == 0


def test_a_late_save_is_refused_and_recorded_with_as_few_queries(
    client, week1, student, django_assert_num_queries
):
    client.force_login(student)
    client.post(QUIZ + "start/")
    past = timezone.now() - attempts.GRACE - datetime.timedelta(seconds=5)
    Attempt.objects.filter(student=student).update(deadline=past)

    with django_assert_num_queries(PAGE + SAVE + TRANSACTION):
        response = put(client, "relu", 0)

    assert response.status_code == 409 and "after the deadline" in response.json()["detail"]
    assert AnswerSave.objects.get().refusal == "late"


def test_a_save_to_another_students_attempt_is_not_found(client, week1, student, other_student):
    attempts.attempt_start(quiz=week1, student=student)
    client.force_login(other_student)

    assert put(client, "relu", 0).status_code == 404
    assert not AnswerSave.objects.exists()


def submit(client, course, student, n: int, django_assert_num_queries) -> None:
    """Start a quiz of ``n`` choice questions, answer them all, submit through the page in
    ``PAGE + SUBMIT`` queries."""
    quiz_import(
        course=course,
        text=quiz_yaml(slug=f"n{n}", title=f"Quiz {n}", questions=choice_questions(n)),
    )
    client.force_login(student)
    client.post(f"/courses/pmldl/quizzes/n{n}/start/")
    for i in range(n):
        assert put_to(client, f"n{n}", f"q{i}", 0).status_code == 200
    with django_assert_num_queries(PAGE + SUBMIT):
        response = client.post(f"/courses/pmldl/quizzes/n{n}/attempts/1/submit/")
    assert response.status_code == 302
    attempt = Attempt.objects.get(quiz__slug=f"n{n}", student=student)
    assert attempt.state == AttemptState.SUBMITTED and attempt.score == n
    assert AnswerGrade.objects.filter(attempt=attempt).count() == n
    assert Score.objects.get(item=attempt.quiz.item, student=student).raw_points == 10


def put_to(client, quiz: str, slug: str, value):
    url = f"/api/courses/pmldl/quizzes/{quiz}/attempts/1/answers/{slug}/"
    return client.put(url, json.dumps({"value": value}), "application/json")


@pytest.mark.parametrize("questions", [3, 30])
def test_a_submit_runs_as_many_queries_for_three_questions_as_for_thirty(
    client, scheme, lecture, course, student, questions, django_assert_num_queries
):
    submit(client, course, student, questions, django_assert_num_queries)


def test_a_second_attempts_submit_reads_nothing_the_first_did_not(
    client, scheme, lecture, course, student, django_assert_num_queries
):
    quiz_import(
        course=course,
        text=quiz_yaml(slug="twice", title="Twice", attempts=2, questions=choice_questions(3)),
    )
    client.force_login(student)
    for number, answer in [(1, 1), (2, 0)]:
        client.post("/courses/pmldl/quizzes/twice/start/")
        for i in range(3):
            url = f"/api/courses/pmldl/quizzes/twice/attempts/{number}/answers/q{i}/"
            assert (
                client.put(url, json.dumps({"value": answer}), "application/json").status_code
                == 200
            )
        if number == 1:
            client.post("/courses/pmldl/quizzes/twice/attempts/1/submit/")

    with django_assert_num_queries(PAGE + SUBMIT_AGAIN):
        response = client.post("/courses/pmldl/quizzes/twice/attempts/2/submit/")

    assert response.status_code == 302
    assert Score.objects.get(student=student).raw_points == 10  # the higher: all right
    assert Score.objects.get(student=student).history.count() == 2


def test_the_api_start_answers_with_the_attempt_without_reading_it_again(
    week1, student, django_assert_num_queries
):
    api = token_client(student)

    with django_assert_num_queries(TOKEN + START + TRANSACTION):
        response = api.post("/api/courses/pmldl/quizzes/week1/attempts/")

    assert response.status_code == 201 and len(response.json()["questions"]) == 7


def token_client(student) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=student).key}")
    return api


def test_the_api_save_runs_four_queries_after_the_token_and_course(
    week1, student, django_assert_num_queries
):
    api = token_client(student)
    api.post("/api/courses/pmldl/quizzes/week1/attempts/")

    with django_assert_num_queries(TOKEN + SAVE + TRANSACTION):
        response = api.put(ANSWER.format("relu"), {"value": 0}, format="json")

    assert response.status_code == 200
    assert AnswerSave.objects.get(accepted=True).value == 0


@pytest.mark.parametrize("questions", [3, 30])
def test_the_api_submit_runs_as_many_queries_for_three_questions_as_for_thirty(
    scheme, lecture, course, student, questions, django_assert_num_queries
):
    quiz_import(
        course=course,
        text=quiz_yaml(slug="n", title="Quiz n", questions=choice_questions(questions)),
    )
    api = token_client(student)
    api.post("/api/courses/pmldl/quizzes/n/attempts/")
    for i in range(questions):
        url = f"/api/courses/pmldl/quizzes/n/attempts/1/answers/q{i}/"
        assert api.put(url, {"value": 0}, format="json").status_code == 200

    with django_assert_num_queries(TOKEN + API_SUBMIT):
        response = api.post("/api/courses/pmldl/quizzes/n/attempts/1/submit/")

    assert response.status_code == 200 and response.json()["state"] == "submitted"
    assert [q["answer"] for q in response.json()["questions"]] == [0] * questions
    assert Score.objects.get(student=student).raw_points == 10


@pytest.mark.parametrize("request_kind", ["start", "save"])
def test_a_real_api_request_runs_its_statements_besides_its_transaction(
    transactional_db, week1, student, request_kind
):
    """Outside a test's own transaction, as a request runs: an API start is five statements, an
    API save six. The transaction around the write is BEGIN (a statement Django runs only on
    SQLite, as BEGIN IMMEDIATE: that is where writers queue) and one COMMIT (which Django's query
    log lists too)."""
    api = token_client(student)
    if request_kind == "save":
        assert api.post("/api/courses/pmldl/quizzes/week1/attempts/").status_code == 201

    with CaptureQueriesContext(connection) as queries:
        if request_kind == "start":
            response = api.post("/api/courses/pmldl/quizzes/week1/attempts/")
        else:
            response = api.put(ANSWER.format("relu"), {"value": 0}, format="json")

    assert response.status_code in (200, 201), response.content
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if s.startswith(("SAVEPOINT", "RELEASE"))], sql
    statements = [s for s in sql if not s.startswith(("BEGIN", "COMMIT"))]
    assert sql.count("COMMIT") == 1, sql
    assert len(statements) == (TOKEN + START if request_kind == "start" else TOKEN + SAVE), sql
