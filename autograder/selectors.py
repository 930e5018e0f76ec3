"""Reads of the autograder, for pages and the API."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from autograder import blobs, notebooks
from autograder.models import (
    Assignment,
    FileRole,
    GradingRun,
    ManualGrade,
    Submission,
    SubmissionState,
)
from courseapp.courses.models import Course


def assignment_list(*, course: Course) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(course=course)
        .select_related("item")
        .order_by("item__due_at", "slug")
    )


def submission_list(*, assignment: Assignment, student=None) -> QuerySet[Submission]:
    submissions = Submission.objects.filter(assignment=assignment).select_related("student")
    if student is not None:
        submissions = submissions.filter(student=student)
    return submissions.order_by("-created_at")


def latest_run(*, submission: Submission) -> GradingRun | None:
    return submission.runs.filter(error="").order_by("-started_at", "-pk").first()


def feedback(*, submission: Submission, run: GradingRun | None) -> list[dict]:
    """The run's tests as the student sees them, with hand grades and comments filled in."""
    if run is None:
        return []
    manual = {g.grade_id: g for g in submission.manual_grades.all()}
    rows = []
    for test in run.tests:
        row = dict(test)
        if test["status"] == "manual":
            grade = manual.get(test["name"])
            row["score"] = None if grade is None else str(grade.points.normalize())
            row["output"] = grade.comment if grade else ""
        rows.append(row)
    return rows


def downloadable_files(*, assignment: Assignment):
    """What students may download: the student version and the data; never the source."""
    return assignment.files.filter(role__in=[FileRole.RELEASE, FileRole.DATA]).order_by(
        "role", "name"
    )


@dataclass(frozen=True)
class ManualCell:
    submission: Submission
    grade_id: str
    max_points: str
    answer: str
    grade: ManualGrade | None


def manual_grading_queue(*, assignment: Assignment) -> list[ManualCell]:
    """Every hand-graded cell of each student's latest graded submission, ungraded first."""
    latest: dict[int, Submission] = {}
    graded = Submission.objects.filter(assignment=assignment, state=SubmissionState.GRADED)
    for submission in graded.select_related("student").order_by("number"):
        latest[submission.student_id] = submission
    cells = []
    for submission in latest.values():
        run = latest_run(submission=submission)
        if run is None:
            continue
        grades = {g.grade_id: g for g in submission.manual_grades.all()}
        answers = _answers(run.executed_sha256)
        for test in run.tests:
            if test["status"] == "manual":
                cells.append(
                    ManualCell(
                        submission,
                        test["name"],
                        test["max_score"],
                        answers.get(test["name"], "(the answer cell is missing)"),
                        grades.get(test["name"]),
                    )
                )
    return sorted(cells, key=lambda c: (c.grade is not None, c.submission.student.username))


def _answers(executed_sha256: str) -> dict[str, str]:
    if not executed_sha256:
        return {}
    notebook = notebooks.read(blobs.get(executed_sha256), name="the executed notebook")
    return {notebooks.grade_id(c): c.source for c in notebook.cells if notebooks.grade_id(c)}
