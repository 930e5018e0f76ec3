"""A prepared read (``courseapp.prepared``) finds where its values go by compiling it with
stand-ins; a read whose own constant equals a stand-in, or whose SQL changes with a value, would
bind the caller's value in the wrong place. It is compiled with two sets of stand-ins and refused
(a programming error, at its first call) unless both agree."""

from __future__ import annotations

import pytest

from courseapp.prepared import _STAND_INS, prepared
from courseapp.quizzes import attempts
from courseapp.quizzes.models import Attempt

pytestmark = pytest.mark.django_db


def test_a_read_with_a_constant_equal_to_a_stand_in_is_refused_not_bound_wrongly(week1, student):
    attempt = attempts.attempt_start(quiz=week1, student=student)
    constant = _STAND_INS[int](0)

    @prepared(int)
    def mine_unless_numbered_so(pk: int):
        return Attempt.objects.filter(pk=pk).exclude(number=constant)

    with pytest.raises(ValueError, match="change with the values"):
        list(mine_unless_numbered_so(attempt.pk))


def test_a_read_whose_sql_changes_with_its_value_is_refused(week1, student):
    attempts.attempt_start(quiz=week1, student=student)

    @prepared(int)
    def the_first_few(number: int):
        return Attempt.objects.filter(number__lte=number)[:number]

    with pytest.raises(ValueError, match="change with the values"):
        list(the_first_few(1))


def test_a_read_whose_constants_differ_from_the_stand_ins_is_prepared(week1, student):
    attempt = attempts.attempt_start(quiz=week1, student=student)

    @prepared(int)
    def mine_unless_numbered_so(pk: int):
        return Attempt.objects.filter(pk=pk).exclude(number=7)

    assert [a.pk for a in mine_unless_numbered_so(attempt.pk)] == [attempt.pk]
    assert [a.pk for a in mine_unless_numbered_so(attempt.pk + 1)] == []
