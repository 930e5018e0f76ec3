"""An imported cell is the points that count, as the export shows them: on a late or an
overridden score it becomes what counts, and importing it again changes nothing."""

from __future__ import annotations

import datetime

from grading.selectors import gradebook_for_course
from grading.services import scores
from grading.services.csv_import import gradebook_import
from tests.grading.conftest import DUE


def final(course, student, item):
    return gradebook_for_course(course=course).breakdowns[student.pk].item(item.pk).earned


def test_an_imported_cell_on_a_late_score_is_what_counts(assignment, student, ta, course):
    late = DUE + datetime.timedelta(hours=2)  # one day late: 10 → 9
    scores.score_set(
        item=assignment, student=student, points=10, by=ta, source="autograder", submitted_at=late
    )

    report = gradebook_import(course=course, data="username,item,points\nstudent,A1,9.5\n", by=ta)
    again = gradebook_import(course=course, data="username,item,points\nstudent,A1,9.5\n", by=ta)

    assert report.applied and final(course, student, assignment) == 9.5  # not 9.5 − 10 %
    assert not again.changes and again.unchanged == 1


def test_an_imported_cell_on_an_overridden_score_replaces_the_override(quiz, student, ta, course):
    score = scores.score_set(item=quiz, student=student, points=4, by=ta, source="quiz")
    scores.score_override(score=score, points=8, reason="key was wrong", by=ta)

    gradebook_import(course=course, data="username,item,points\nstudent,Quiz 1,6\n", by=ta)
    again = gradebook_import(course=course, data="username,item,points\nstudent,Quiz 1,6\n", by=ta)

    assert final(course, student, quiz) == 6
    assert not again.changes
