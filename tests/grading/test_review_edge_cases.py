"""Edge cases a second reading found: imports onto late, overridden or team scores; more than
three decimals; items of components a released scheme lacks; bulk edits of the history."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from grading.models import AppendOnlyError, ScoreHistory
from grading.selectors import gradebook_for_course, student_grades
from grading.services import scores
from grading.services.csv_import import gradebook_import
from grading.services.items import graded_item_create
from grading.services.schemes import grades_release, grading_scheme_create
from tests.grading.conftest import DUE, LETTERS, SLIDES


def final(course, student, item):
    return gradebook_for_course(course=course).breakdowns[student.pk].item(item.pk).earned


def test_an_imported_cell_on_a_late_score_is_what_counts(assignment, student, ta, course):
    late = DUE + datetime.timedelta(hours=2)  # one day late: 10 → 9
    scores.score_set(item=assignment, student=student, points=10, by=ta, source="autograder",
                     submitted_at=late)  # fmt: skip

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


def test_more_than_three_decimals_are_refused(midterm, student, ta, course):
    report = gradebook_import(
        course=course, data="username,item,points\nstudent,Midterm theory,7.0005\n", by=ta
    )

    assert [e.message for e in report.errors] == [
        "Midterm theory: points 7.0005 has more than 3 decimal places."
    ]


def test_the_header_may_be_capitalised(midterm, student, ta, course):
    report = gradebook_import(course=course, data="Username,Midterm theory\nstudent,5\n", by=ta)

    assert report.applied


def test_line_numbers_count_lines_of_the_file_not_records(midterm, student, ta, course):
    text = (
        "username,item,points,comment\n"
        'student,Midterm theory,5,"two\nlines"\n'
        "ghost,Midterm theory,1,\n"
    )

    report = gradebook_import(course=course, data=text, by=ta)

    assert [e.line for e in report.errors] == [4]


def test_a_released_scheme_ignores_items_of_a_later_component(course, scheme, quiz, student, ta):
    scores.score_set(item=quiz, student=student, points=5, by=ta, source="quiz")
    grades_release(course=course, released_by=ta)
    grading_scheme_create(
        course=course, components=[*SLIDES, {"name": "Bonus", "points": 5}], letter_cutoffs=LETTERS
    )
    graded_item_create(course=course, component="Bonus", name="Extra", max_points=5, published=True)

    grades = student_grades(course=course, student=student)

    assert grades.breakdown.total == 5  # computed with the released version, without Bonus


def test_an_item_needs_a_component_of_the_current_scheme(course, scheme):
    with pytest.raises(ValidationError, match="no component 'Homework'"):
        graded_item_create(course=course, component="Homework", name="H1", max_points=5)


def test_the_history_refuses_bulk_edits_and_deletes(quiz, student, ta):
    scores.score_set(item=quiz, student=student, points=5, by=ta, source="quiz")

    with pytest.raises(AppendOnlyError):
        ScoreHistory.objects.update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        ScoreHistory.objects.all().delete()
    assert ScoreHistory.objects.count() == 1


def test_changing_an_items_due_date_is_in_each_affected_history(assignment, student, ta):
    scores.score_set(item=assignment, student=student, points=10, by=None, source="autograder",
                     submitted_at=DUE + datetime.timedelta(hours=2))  # fmt: skip

    scores.graded_item_update(
        item=assignment, by=ta, reason="moved", due_at=DUE + datetime.timedelta(days=1)
    )

    last = ScoreHistory.objects.order_by("pk").last()
    assert (last.old["final"], last.new["final"], last.changed_by) == ("9", "10", ta)
    assert last.reason == "A1 changed (due_at): moved"


def test_the_score_page_is_only_for_students_of_the_course(client, ta, quiz, outsider, instructor):
    client.force_login(ta)

    assert (
        client.get(f"/courses/pmldl/gradebook/items/{quiz.pk}/students/outsider/").status_code
        == 404
    )
    assert (
        client.get(f"/courses/pmldl/gradebook/items/{quiz.pk}/students/instructor/").status_code
        == 404
    )


def test_a_ta_reads_the_scheme_page_but_cannot_post_a_new_scheme(client, ta, scheme):
    client.force_login(ta)

    assert client.get("/courses/pmldl/scheme/").status_code == 200
    assert client.post("/courses/pmldl/scheme/", {"components": "x, 1"}).status_code == 403


def test_a_scheme_without_names_says_so(api_as, instructor, scheme):
    body = {"components": [{"points": 10}], "letter_cutoffs": [{"letter": "A"}]}

    response = api_as(instructor).post("/api/courses/pmldl/scheme/", body, format="json")

    assert response.status_code == 400
    assert "Component 1 needs name and points" in str(response.json())
