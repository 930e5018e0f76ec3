"""CSV: the wide export, an import that applies all rows or none (each error named by its line of
the file), and a round trip that changes nothing."""

from __future__ import annotations

import csv
import io
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from grading.models import Score, ScoreHistory
from grading.selectors import gradebook_for_course
from grading.services import scores
from grading.services.csv_import import gradebook_import


def export(course) -> list[dict]:
    out = StringIO()
    call_command("gradebook", "export", "--course", course.code, stdout=out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_the_export_has_identity_items_components_total_and_letter(quiz, midterm, student, ta):
    scores.score_set(item=quiz, student=student, points=8, by=ta, source="manual")

    [row] = export(quiz.course)

    assert list(row)[:3] == ["username", "email", "full name"]
    assert row["Quiz 1"] == "8" and row["Midterm theory"] == ""
    assert row["Quizzes total"] == "8"  # 10 points × 8/10
    assert (row["total"], row["rounded total"], row["letter"]) == ("8", "8", "D")


def test_a_long_import_applies_every_row(midterm, student, other_student, ta, course):
    text = (
        "username,item,points,comment\n"
        "student,Midterm theory,7.5,good\n"
        "other_student,Midterm theory,9,\n"
    )

    report = gradebook_import(course=course, data=text, by=ta)

    assert report.applied and len(report.changes) == 2
    score = Score.objects.get(student=student, item=midterm)
    assert (score.raw_points, score.source, score.comment) == (7.5, "import", "good")
    assert score.history.get().reason == "CSV import, line 2"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("nobody,Midterm theory,5", "unknown student 'nobody'"),
        ("student,Midterm theroy,5", "unknown item 'Midterm theroy'"),
        ("student,Midterm theory,11", "above the maximum of 10"),
        ("student,Midterm theory,ten", "is not a number"),
        ("student,Midterm theory,-1", "negative"),
        ("outsider,Midterm theory,5", "unknown student 'outsider'"),
    ],
)
def test_one_bad_row_imports_nothing_and_is_named(
    midterm, student, other_student, outsider, ta, course, line, message
):
    text = f"username,item,points\nother_student,Midterm theory,9\n{line}\n"

    report = gradebook_import(course=course, data=text, by=ta)

    assert not report.applied
    assert [(e.line, message in e.message) for e in report.errors] == [(3, True)]
    assert not Score.objects.exists()
    assert not ScoreHistory.objects.exists()


def test_the_same_cell_twice_is_an_error(midterm, student, ta, course):
    text = "username,item,points\nstudent,Midterm theory,5\nstudent,Midterm theory,6\n"

    report = gradebook_import(course=course, data=text, by=ta)

    assert [str(e) for e in report.errors] == [
        "line 3: student / Midterm theory already given on line 2"
    ]


def test_reimporting_the_export_changes_nothing_and_writes_no_history(
    quiz, assignment, midterm, student, other_student, ta, course
):
    scores.score_set(item=quiz, student=student, points=8, by=ta, source="manual")
    scores.score_set(item=midterm, student=other_student, points="6.5", by=ta, source="manual")
    scores.score_set_status(item=assignment, student=student, status="excused", by=ta, reason="ill")
    out = StringIO()
    call_command("gradebook", "export", "--course", "pmldl", stdout=out)
    before = ScoreHistory.objects.count()

    report = gradebook_import(course=course, data=out.getvalue(), by=ta)

    assert report.ok and not report.changes and not report.applied
    assert report.unchanged == 3
    assert ScoreHistory.objects.count() == before


def test_a_wide_import_of_an_edited_export_changes_the_edited_cells(
    quiz, midterm, student, other_student, ta, course
):
    rows = export(course)
    for row in rows:
        row["Midterm theory"] = {"student": "9", "other_student": "EX"}[row["username"]]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)

    report = gradebook_import(course=course, data=text.getvalue(), by=ta)

    assert report.applied
    book = gradebook_for_course(course=course)
    assert book.breakdowns[student.pk].item(midterm.pk).earned == 9
    assert book.breakdowns[other_student.pk].item(midterm.pk).state == "excused"


def test_an_unknown_column_in_a_wide_file_is_an_error(quiz, student, ta, course):
    report = gradebook_import(course=course, data="username,Quizz 1\nstudent,5\n", by=ta)

    assert [str(e) for e in report.errors] == ["line 1: unknown item column 'Quizz 1'"]


def test_a_dry_run_reports_without_applying(midterm, student, ta, course):
    report = gradebook_import(
        course=course, data="username,item,points\nstudent,Midterm theory,5\n", by=ta, dry_run=True
    )

    assert report.ok and len(report.changes) == 1 and not report.applied
    assert not Score.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_clearly(midterm, ta, course):
    with pytest.raises(ValidationError, match="not UTF-8"):
        gradebook_import(course=course, data=b"username,item,points\n\xff\xfe,x,1\n", by=ta)


def test_the_command_imports_and_refuses_bad_files(tmp_path, midterm, student, ta, course):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("username,item,points\nstudent,Midterm theory,5\n")
    bad.write_text("username,item,points\nstudent,Midterm theory,50\n")
    out = StringIO()

    with pytest.raises(CommandError, match="1 bad row"):
        call_command(
            "gradebook", "import", "--course", "pmldl", str(bad), "--as", "ta", stderr=StringIO()
        )
    call_command(
        "gradebook", "import", "--course", "pmldl", str(good), "--dry-run", "--as", "ta", stdout=out
    )
    assert not Score.objects.exists()
    with pytest.raises(CommandError, match="'student' is not staff"):
        call_command("gradebook", "import", "--course", "pmldl", str(good), "--as", "student")
    call_command("gradebook", "import", "--course", "pmldl", str(good), "--as", "ta", stdout=out)

    score = Score.objects.get()
    assert score.raw_points == 5
    assert score.history.get().changed_by == ta
    assert "1 score(s) changed" in out.getvalue()


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
