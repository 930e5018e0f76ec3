"""A student's due date is their extension, else the item's: one rule (``due_at_for``), for one
item or, from ``extension_due_dates``, for a whole class in one query."""

from __future__ import annotations

import datetime

from grading.selectors import due_at_for, extension_due_dates
from grading.services import scores
from tests.grading.conftest import DUE

LATER = DUE + datetime.timedelta(days=2)


def test_without_an_extension_it_is_the_items(assignment, student):
    assert due_at_for(item=assignment, student=student) == DUE


def test_with_an_extension_it_is_the_extensions(assignment, student, other_student, ta):
    scores.extension_grant(item=assignment, student=student, due_at=LATER, reason="ill", by=ta)

    assert due_at_for(item=assignment, student=student) == LATER
    assert due_at_for(item=assignment, student=other_student) == DUE


def test_the_class_reads_every_extension_in_one_query(
    assignment, student, other_student, ta, course, django_assert_num_queries
):
    scores.extension_grant(item=assignment, student=student, due_at=LATER, reason="ill", by=ta)

    with django_assert_num_queries(1):
        due = extension_due_dates(course=course)
        mine, theirs = due[student.pk], due[other_student.pk]

    assert due_at_for(item=assignment, student=student, extensions=mine) == LATER
    assert due_at_for(item=assignment, student=other_student, extensions=theirs) == DUE
