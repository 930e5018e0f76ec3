"""A compiled-once read (``courseapp.prepared``) answers what the plain QuerySet answers, for
values the ORM itself answers without asking the database and for what a caller does with the
QuerySet it returns, and keeps Django's checks."""

from __future__ import annotations

import pickle

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from courseapp.courses.models import Course
from courseapp.prepared import prepared
from courseapp.quizzes import attempts, selectors
from courseapp.quizzes.models import Attempt

# Past the attempt number's small integer, past an integer, past a big integer, past anything.
NUMBERS = [32768, 2**31, 2**63, 10**30]


@pytest.mark.parametrize("number", NUMBERS)
def test_it_finds_no_attempt_whose_number_no_column_can_hold(week1, course, student, number):
    attempts.attempt_start(quiz=week1, student=student)
    found = Attempt.objects.filter(quiz__course=course, quiz__slug="week1", number=number)
    assert list(found.filter(student=student)) == []  # what the ORM answers, without asking

    assert (
        selectors.attempt_with_quiz(course=course, slug="week1", student=student, number=number)
        is None
    )


@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize("method", ["get", "put", "post"])
def test_the_api_answers_404_for_an_attempt_number_no_column_can_hold(
    week1, student, number, method
):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=student).key}")
    assert api.post("/api/courses/pmldl/quizzes/week1/attempts/").status_code == 201
    url = f"/api/courses/pmldl/quizzes/week1/attempts/{number}/"
    send = {
        "get": lambda: api.get(url),
        "put": lambda: api.put(url + "answers/relu/", {"value": 0}, format="json"),
        "post": lambda: api.post(url + "submit/"),
    }[method]
    send()  # the reads are compiled: the second is the warm one

    assert send().status_code == 404


def _two_attempts(week1, student) -> tuple[Attempt, Attempt]:
    week1.attempts_allowed = 2
    week1.save()
    first = attempts.attempt_start(quiz=week1, student=student)
    attempts.attempt_submit(attempt=first)
    return first, attempts.attempt_start(quiz=week1, student=student)


def test_a_prepared_read_refined_further_answers_as_the_orm(week1, student):
    first, second = _two_attempts(week1, student)
    theirs = Attempt.objects.filter(quiz=week1.pk, student=student.pk)

    for read in (theirs, selectors.attempts_of(week1.pk, student.pk)):
        assert read.count() == 2
        assert [a.pk for a in read.filter(number=2)] == [second.pk]
        assert not read.filter(number=3).exists()
        assert read.last().pk == second.pk
        assert read[1].pk == second.pk
        assert [a.pk for a in read[1:]] == [second.pk]
        assert list(read.values_list("number", flat=True)) == [1, 2]
        assert read.get(number=1).pk == first.pk


def test_a_prepared_read_refined_in_a_write_changes_only_what_it_names(week1, student):
    first, second = _two_attempts(week1, student)

    selectors.attempts_of(week1.pk, student.pk).filter(number=2).update(max_score=7)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.max_score != 7 and second.max_score == 7


def test_a_prepared_read_pickles_as_a_queryset_does(week1, student):
    first, second = _two_attempts(week1, student)
    read = selectors.attempts_of(week1.pk, student.pk)

    again = pickle.loads(pickle.dumps(read))

    assert [a.pk for a in again] == [first.pk, second.pk]


@pytest.mark.django_db(transaction=True)
def test_a_locking_read_outside_a_transaction_is_refused_as_django_refuses():
    """Django refuses ``select_for_update`` in autocommit (a lock that would be released at
    once): a prepared locking read compiled inside a transaction refuses it too afterwards."""
    course = Course.objects.create(code="locks", title="Locks")

    @prepared(int)
    def locked(pk: int) -> QuerySet[Course]:
        return Course.objects.select_for_update().filter(pk=pk)

    with transaction.atomic():
        assert [c.pk for c in locked(course.pk)] == [course.pk]  # compiled here

    if connection.features.has_select_for_update:  # PostgreSQL; SQLite locks the database
        with pytest.raises(TransactionManagementError):
            list(Course.objects.select_for_update().filter(pk=course.pk))
        with pytest.raises(TransactionManagementError):
            list(locked(course.pk))
    else:
        assert [c.pk for c in locked(course.pk)] == [course.pk]


def test_a_read_django_answers_without_asking_answers_nothing(course):
    """An empty ``IN`` (or ``none()``): Django finds nothing without asking; so does the read,
    each time (it is never prepared)."""

    @prepared(int)
    def in_nothing(pk: int) -> QuerySet[Course]:
        return Course.objects.filter(pk=pk, code__in=[])

    assert list(Course.objects.filter(pk=course.pk, code__in=[])) == []
    assert list(in_nothing(course.pk)) == [] and list(in_nothing(course.pk)) == []
    assert in_nothing(course.pk).count() == 0
