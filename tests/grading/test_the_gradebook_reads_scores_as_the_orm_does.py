"""The gradebook reads its 60,000 scores with one cursor and converts each distinct value once
(``selectors._shared_rows``), not through the ORM row by row; every score it reads is still the
one the ORM gives: the same decimals (to the field's places: ``7.500``, never ``7.5`` beside
``7.500``), the same aware datetimes, the same statuses, on whatever database the tests run on."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest

from grading.models import Score
from grading.selectors import gradebook_for_course, score_spec
from grading.services.items import graded_item_create

SUBMITTED = datetime.datetime(2026, 10, 2, 9, 30, 15, 123456, tzinfo=datetime.UTC)

# (status, raw, submitted_at, override, adjustment): integers, halves, thousandths, the largest
# the field holds, negatives, None, and the same value twice (read once, used twice).
SCORES = [
    ("graded", D("7.5"), None, None, D(0)),
    ("graded", D(10), SUBMITTED, None, D("-2.5")),
    ("graded", D("0.001"), SUBMITTED, D("9.999"), D(0)),
    ("missing", None, None, None, D(0)),
    ("excused", D("99999.999"), SUBMITTED + datetime.timedelta(days=3), None, D("0.125")),
    ("graded", D("7.5"), None, None, D(0)),
]


@pytest.fixture
def scored(course, scheme, student, other_student):
    students = [student, other_student]
    for number, (status, raw, submitted, override, adjustment) in enumerate(SCORES):
        item = graded_item_create(
            course=course, component="Assignments", name=f"A{number}", max_points=10
        )
        Score.objects.create(
            item=item,
            student=students[number % 2],
            source="manual",
            status=status,
            raw_points=raw,
            submitted_at=submitted,
            override_points=override,
            adjustment=adjustment,
        )
    return students


def test_it_reads_every_score_as_the_orm_does(course, scored):
    book = gradebook_for_course(course=course)

    from_the_orm = {
        (s.student_id, s.item_id): score_spec(s) for s in Score.objects.filter(item__course=course)
    }
    read = {
        (student_id, item_id): spec
        for student_id, specs in book.scores.items()
        for item_id, spec in specs.items()
    }
    assert read == from_the_orm
    # Equal is not enough: 7.5 == 7.500, and a naive datetime would fail only when compared.
    assert {k: repr(v) for k, v in read.items()} == {k: repr(v) for k, v in from_the_orm.items()}


def test_it_reads_a_course_without_scores(course, scheme, student):
    book = gradebook_for_course(course=course)

    assert book.scores[student.pk] == {}
    assert book.breakdowns[student.pk].total == 0
