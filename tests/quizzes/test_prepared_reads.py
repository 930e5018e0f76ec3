"""Exam day's reads are compiled once per process (``courseapp.prepared``) and answer, for any
values, what the ORM lookups they replace answer: the course with each user's role, a student's
own attempt (never another's; its number is a small-integer column, which PostgreSQL's driver
binds in a type of its own), a token's user, and the same refusals."""

from __future__ import annotations

import pytest
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from courseapp.courses.models import Course, Role
from courseapp.courses.selectors import course_role, course_with_role
from courseapp.prepared import prepared
from courseapp.quizzes import attempts, selectors
from tests.factories import CourseFactory, EnrollmentFactory


def test_it_reads_each_users_role_in_each_course(course, instructor, student, outsider):
    other = CourseFactory(code="other")
    EnrollmentFactory(course=other, user=outsider, role=Role.TA)

    for user, code, role in [
        (instructor, "pmldl", Role.INSTRUCTOR),
        (student, "pmldl", Role.STUDENT),
        (outsider, "pmldl", None),
        (outsider, "other", Role.TA),
        (student, "other", None),
    ]:
        user.__dict__.pop("_course_roles", None)
        found = course_with_role(user=user, code=code)
        assert found.code == code and course_role(user=user, course=found) == role
    assert course_with_role(user=student, code="nowhere") is None


def test_it_finds_a_students_own_attempts_by_number_and_no_one_elses(
    week1, course, student, other_student
):
    first = attempts.attempt_start(quiz=week1, student=student)
    attempts.attempt_submit(attempt=first)
    theirs = attempts.attempt_start(quiz=week1, student=other_student)

    def found(who, number):
        return selectors.attempt_with_quiz(course=course, slug="week1", student=who, number=number)

    assert found(student, 1).pk == first.pk and found(student, 1).quiz.course is course
    assert found(other_student, 1).pk == theirs.pk
    assert found(student, 2) is None and found(student, 32767) is None
    assert (
        selectors.attempt_with_quiz(course=course, slug="other", student=student, number=1) is None
    )


def test_a_save_locks_the_right_attempt_by_its_small_integer_number(week1, student):
    attempt = attempts.attempt_start(quiz=week1, student=student)
    question = week1.questions.get(slug="relu")

    saved = attempts.answer_save_to(
        quiz=week1, student=student, number=1, question=question, value=0, version=3
    )
    again = attempts.answer_save_to(
        quiz=week1, student=student, number=1, question=question, value=1, version=2
    )

    assert saved.accepted and saved.version == 3
    assert again.superseded and again.version == 3
    assert attempt.saves.filter(accepted=True).count() == 1
    with pytest.raises(type(attempt).DoesNotExist):
        attempts.answer_save_to(quiz=week1, student=student, number=2, question=question, value=0)


@pytest.mark.parametrize("case", ["right", "unknown", "inactive"])
def test_a_token_authenticates_as_drf_does(db, student, case):
    token = Token.objects.create(user=student)
    if case == "inactive":
        student.is_active = False
        student.save()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {'x' * 40 if case == 'unknown' else token.key}")

    response = api.get("/api/courses/pmldl/")

    if case == "right":
        assert response.status_code == 200
    else:
        detail = "Invalid token." if case == "unknown" else "User inactive or deleted."
        assert response.status_code == 401 and response.json()["detail"] == detail
        assert response["WWW-Authenticate"] == "Token"


def test_a_read_whose_value_does_not_reach_the_sql_as_is_is_refused(db):
    @prepared(str)
    def shouting(code: str) -> QuerySet[Course]:
        return Course.objects.filter(code=code.upper())

    with pytest.raises(ValueError, match="does not reach the SQL"):
        list(shouting("pmldl"))


def test_values_of_another_type_are_read_by_the_orm_itself(course):
    @prepared(int)
    def by_pk(pk: int) -> QuerySet[Course]:
        return Course.objects.filter(pk=pk)

    assert [c.code for c in by_pk(str(course.pk))] == ["pmldl"]
    assert [c.code for c in by_pk(course.pk)] == ["pmldl"]
    assert list(by_pk(course.pk + 1)) == []


@pytest.mark.parametrize("request_kind", ["start", "save"])
def test_a_warm_api_start_or_save_compiles_no_sql_but_its_insert(
    week1, student, other_student, request_kind, monkeypatch
):
    """What the CPU went to (issue 19): after the first request of a kind, the same reads are
    not built and compiled again; only the insert is (its values are the row's)."""
    first, second = (token_client(who) for who in (student, other_student))
    for api in (first, second):
        if request_kind == "save":
            api.post("/api/courses/pmldl/quizzes/week1/attempts/")
    send = {
        "start": lambda api: api.post("/api/courses/pmldl/quizzes/week1/attempts/"),
        "save": lambda api: api.put(ANSWER, {"value": 0}, format="json"),
    }[request_kind]
    assert send(first).status_code in (200, 201)  # warm
    compiled = []
    for compiler in (SQLCompiler, SQLInsertCompiler):
        monkeypatch.setattr(compiler, "as_sql", _recording(compiler.as_sql, compiled))

    assert send(second).status_code in (200, 201)

    assert compiled == ["SQLInsertCompiler"]


ANSWER = "/api/courses/pmldl/quizzes/week1/attempts/1/answers/relu/"


def token_client(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def _recording(as_sql, compiled: list):
    def recorded(self, *args, **kwargs):
        compiled.append(type(self).__name__)
        return as_sql(self, *args, **kwargs)

    return recorded
