"""Assignment pages: download the student version, submit, watch the grading, read the feedback.

Students see only their own submissions; staff see everyone's and can grade again.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from autograder import blobs, dispatch, feedback, selectors, uploads
from autograder.failures import InfrastructureFault
from autograder.forms import AssignmentImportForm, ManualGradeForm, RegradeForm, cleaned
from autograder.models import Assignment, Submission
from autograder.services import assignments
from autograder.services.hand_grades import manual_grade_set
from autograder.services.intake import NOT_STORED, submission_create
from autograder.services.queue import assignment_regrade, submission_regrade
from courseapp.courses.permissions import course_view, may
from grading import charts
from grading.selectors import gradebook_for_course, graded_item_list

logger = logging.getLogger(__name__)

IMPORT_BYTES = 100 * 2**20  # an assignment's files together, data sets included


def _assignment(course, slug: str) -> Assignment:
    return get_object_or_404(Assignment.objects.select_related("item"), course=course, slug=slug)


def _visible_submission(request, course, slug: str, number: int) -> tuple[Assignment, Submission]:
    """The assignment and a submission the user may see: their own, or, for staff, anyone's
    (``?student=USERNAME``)."""
    assignment = _assignment(course, slug)
    username = request.GET.get("student")
    owner = username if (username and may(request.user, course, "gradebook")) else None
    submission = get_object_or_404(
        Submission,
        assignment=assignment,
        number=number,
        student__username=owner or request.user.username,
    )
    return assignment, submission


@login_required
@course_view("assignments")
def assignment_list(request, course):
    context = {
        "course": course,
        "assignments": selectors.assignment_list(course=course),
        "is_staff": may(request.user, course, "assignments", "change"),
    }
    return render(request, "autograder/assignment_list.html", context)


@login_required
@course_view("assignments", "change")
def assignment_import(request, course):
    """Staff: create or update an assignment from its source files, as ``import_assignment``.
    The fields may come filled in from the address (``?slug=a1&item=...``)."""
    prefilled = {key: request.GET.get(key, "").strip() for key in ("slug", "title", "item")}
    form = AssignmentImportForm(
        request.POST if request.method == "POST" else None, initial=prefilled
    )
    errors = []
    if request.method == "POST":
        try:
            files = uploads.read_uploaded(request.FILES.getlist("files"), max_bytes=IMPORT_BYTES)
            data = cleaned(form)
            assignment = assignments.assignment_import(
                course=course,
                slug=data["slug"],
                files=files,
                title=data["title"],
                item_name=data["item"] or None,
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(
                request,
                f"Imported {assignment.title}: {assignment.get_kind_display()}, "
                f"{assignment.files.count()} files, scored into {assignment.item.name}.",
            )
            return redirect("assignment-detail", course_code=course.code, slug=assignment.slug)
    items = graded_item_list(course=course)
    context = {"course": course, "form": form, "errors": errors, "items": items}
    status = 400 if errors else 200
    return render(request, "autograder/assignment_import.html", context, status=status)


@login_required
@course_view("submissions")
def assignment_detail(request, course, slug: str):
    assignment = _assignment(course, slug)
    if request.method == "POST":
        try:
            files = uploads.read_uploaded(
                request.FILES.getlist("file"), max_bytes=assignment.max_upload_bytes
            )
            submission = submission_create(assignment=assignment, student=request.user, files=files)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        except InfrastructureFault:
            logger.warning("A submission could not be stored", exc_info=True)
            messages.error(request, NOT_STORED)
        else:
            messages.success(request, dispatch.receipt(submission))
            left_out = selectors.notebooks_left_out(submission=submission)
            if left_out:
                messages.warning(
                    request, f"It does not hold {', '.join(left_out)}: every cell of that scores 0."
                )
        return redirect("assignment-detail", course_code=course.code, slug=slug)
    mine = selectors.submission_list(assignment=assignment, student=request.user)
    is_staff = may(request.user, course, "gradebook")
    context = {
        "course": course,
        "assignment": assignment,
        "files": selectors.downloadable_files(assignment=assignment),
        "submissions": [_with_feedback(s) for s in mine],
        "allowance": selectors.submission_allowance(assignment=assignment, student=request.user),
        "expected": selectors.expected_files(assignment=assignment),
        "is_staff": is_staff,
    }
    if is_staff:
        book = gradebook_for_course(course=course)
        context["chart"] = charts.item_chart(book, assignment.item) if book else None
        context["progress"] = selectors.regrade_progress(assignment=assignment)
    return render(request, "autograder/assignment_detail.html", context)


def _with_feedback(submission: Submission):
    run = selectors.latest_run(submission=submission)
    failure = selectors.grading_failure(submission=submission)
    return submission, run, selectors.feedback(submission=submission, run=run), failure


@login_required
@course_view("assignments")
def download(request, course, slug: str, name: str):
    assignment = _assignment(course, slug)
    file = selectors.downloadable_files(assignment=assignment).filter(name=name).first()
    if file is None:
        raise Http404("No such file.")
    # Streamed from storage (the disk or the bucket), not read whole into memory first.
    return FileResponse(
        blobs.open(file.sha256),
        as_attachment=True,
        filename=file.name,
        content_type="application/octet-stream",
    )


@login_required
@course_view("assignments")
def download_zip(request, course, slug: str):
    """Every file a student gets, in one zip (an assignment of several notebooks and data)."""
    assignment = _assignment(course, slug)
    response = HttpResponse(
        selectors.downloadable_zip(assignment=assignment), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="{assignment.slug}.zip"'
    return response


@login_required
@course_view("assignments")
def submission_status(request, course, slug: str, number: int):
    """JSON for the page's live status: state, score, and when it changed."""
    _, submission = _visible_submission(request, course, slug, number)
    return JsonResponse(
        {
            "number": submission.number,
            "state": submission.state,
            "state_changed_at": submission.state_changed_at.isoformat(),
            "now": timezone.now().isoformat(),  # the page counts elapsed time by the server's clock
            "score": None if submission.score is None else str(submission.score),
            "max_score": None if submission.max_score is None else str(submission.max_score),
        }
    )


@login_required
@course_view("assignments")
@require_POST
def regrade(request, course, slug: str):
    """Staff: grade one submission again, or every latest submission of the assignment."""
    assignment = _assignment(course, slug)
    form = RegradeForm(request.POST)
    if not form.is_valid():  # not a submission's id: nothing is queued
        count = 0
    elif form.cleaned_data["submission"] is None:
        count = assignment_regrade(assignment=assignment)
    else:
        count = submission_regrade(
            assignment=assignment, submission_pk=form.cleaned_data["submission"]
        )
    messages.success(request, f"{count} submission(s) queued for grading again.")
    return redirect("assignment-detail", course_code=course.code, slug=slug)


@login_required
@course_view("assignments", "change")
def regrade_progress(request, course, slug: str):
    """Staff: JSON for the page's progress bar of the last "grade every submission again"."""
    progress = selectors.regrade_progress(assignment=_assignment(course, slug))
    if progress is None:
        return JsonResponse({"total": 0, "graded": 0, "failed": 0, "finished": True})
    return JsonResponse(
        {
            "total": progress.total,
            "graded": progress.graded,
            "failed": progress.failed,
            "finished": progress.finished,
        }
    )


@login_required
@course_view("gradebook")
def manual_grading(request, course, slug: str):
    """Staff: the written answers of the latest submissions, with points and a comment each."""
    assignment = _assignment(course, slug)
    if request.method == "POST":
        form = ManualGradeForm(request.POST)
        if not form.is_valid():
            raise Http404("No such submission.")
        data = form.cleaned_data
        submission = get_object_or_404(Submission, pk=data["submission"], assignment=assignment)
        try:
            manual_grade_set(
                submission=submission,
                grade_id=data["grade_id"],
                points=data["points"],
                comment=data["comment"],
                by=request.user,
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, f"Saved for {submission.student.username}.")
        return redirect("manual-grading", course_code=course.code, slug=slug)
    cells = selectors.manual_grading_queue(assignment=assignment)
    prompts = selectors.written_prompts(assignment=assignment)
    context = {
        "course": course,
        "assignment": assignment,
        "cells": [(c, prompts.get(c.grade_id)) for c in cells],
        "waiting": sum(1 for c in cells if c.grade is None),
    }
    return render(request, "autograder/manual_grading.html", context)


@login_required
@course_view("assignments")
def submission_feedback(request, course, slug: str, number: int):
    """A graded notebook cell by cell: points, output and errors, never the hidden tests."""
    assignment, submission = _visible_submission(request, course, slug, number)
    context = {
        "course": course,
        "assignment": assignment,
        "submission": submission,
        "feedback": feedback.feedback_for_submission(submission=submission),
        "failure": selectors.grading_failure(submission=submission),
        "is_staff": may(request.user, course, "gradebook"),
    }
    return render(request, "autograder/feedback.html", context)
