"""A scheme change is previewed (whose letter changes), applied as a new version, and grades that
were released keep the version they were released with, ignoring items of later components."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from grading import selectors
from grading.selectors import student_grades
from grading.services import scores
from grading.services.items import graded_item_create
from grading.services.schemes import (
    grades_release,
    grading_scheme_create,
    grading_scheme_preview,
    scheme_validate,
)
from tests.factories import EnrollmentFactory
from tests.grading.conftest import LETTERS, SLIDES

EASIER = [dict(c) for c in LETTERS]
EASIER[0]["min_points"] = "5"  # A from 5 points
EASIER[1]["min_points"] = "4"
EASIER[2]["min_points"] = "3"


def test_the_preview_lists_exactly_the_students_whose_letter_changes(
    course, scheme, student, other_student, ta
):
    item = graded_item_create(course=course, component="Midterm", name="M", max_points=20)
    scores.score_set(item=item, student=student, points=10, by=ta, source="manual")  # 10 points
    scores.score_set(item=item, student=other_student, points=2, by=ta, source="manual")  # 2

    changes = grading_scheme_preview(
        course=course, data=scheme_validate(components=SLIDES, letter_cutoffs=EASIER)
    )

    assert [(c.student.username, c.old_letter, c.new_letter) for c in changes] == [
        ("student", "D", "A")
    ]
    assert selectors.grading_scheme_current(course=course) == scheme  # nothing applied


def test_released_grades_keep_their_scheme_version(course, scheme, student, ta):
    item = graded_item_create(
        course=course, component="Midterm", name="M", max_points=20, published=True
    )
    scores.score_set(item=item, student=student, points=10, by=ta, source="manual")
    grades_release(course=course, released_by=ta)

    grading_scheme_create(course=course, components=SLIDES, letter_cutoffs=EASIER)

    assert selectors.student_grades(course=course, student=student).breakdown.letter == "D"
    staff_view = selectors.gradebook_for_course(course=course)
    assert staff_view.breakdowns[student.pk].letter == "A"
    grades_release(course=course, released_by=ta)
    assert selectors.student_grades(course=course, student=student).breakdown.letter == "A"


def test_the_gradebook_takes_the_same_number_of_queries_for_any_class_size(
    course, scheme, ta, student
):
    items = [
        graded_item_create(course=course, component="Quizzes", name=f"Q{n}", max_points=10)
        for n in range(3)
    ]

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            selectors.gradebook_for_course(course=course)
        return len(captured)

    small = count_queries()  # one student, no scores
    for _ in range(15):
        enrollment = EnrollmentFactory(course=course)
        for item in items:
            scores.score_set(item=item, student=enrollment.user, points=5, by=ta, source="manual")
    assert count_queries() == small == 5


def test_a_released_scheme_ignores_items_of_a_later_component(course, scheme, quiz, student, ta):
    scores.score_set(item=quiz, student=student, points=5, by=ta, source="quiz")
    grades_release(course=course, released_by=ta)
    grading_scheme_create(
        course=course, components=[*SLIDES, {"name": "Bonus", "points": 5}], letter_cutoffs=LETTERS
    )
    graded_item_create(course=course, component="Bonus", name="Extra", max_points=5, published=True)

    grades = student_grades(course=course, student=student)

    assert grades.breakdown.total == 5  # computed with the released version, without Bonus
