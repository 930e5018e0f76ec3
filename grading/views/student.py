"""A student's own grades: the breakdown of published items, what is needed for each letter, their
scores' history and their regrade requests."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from courseapp.courses.permissions import course_view
from grading import forms, selectors
from grading.services.regrades import regrade_request_create


@login_required
@course_view("own_grades")
def my_grades(request, course):
    grades = selectors.student_grades(course=course, student=request.user)
    if grades is None:
        return render(request, "grading/no_scheme.html", {"course": course})
    context = {
        "course": course,
        "grades": grades,
        "breakdown": grades.breakdown,
        "requests": selectors.regrade_request_list(course=course, student=request.user),
    }
    return render(request, "grading/my_grades.html", context)


@login_required
@course_view("own_grades")
def my_score(request, course, item_id: int):
    """One of the student's own published scores: its history, and a regrade request form."""
    score = selectors.student_own_score(course=course, student=request.user, item_id=item_id)
    form = forms.RegradeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            regrade_request_create(
                score=score, student=request.user, message=form.cleaned_data["message"]
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, "Your regrade request is with the course staff.")
            return redirect(request.path)
    grades = selectors.student_grades(course=course, student=request.user)
    context = {
        "course": course,
        "score": score,
        "result": grades.breakdown.item(score.item_id),
        "history": selectors.score_history(score=score),
        "requests": score.regrade_requests.order_by("-created_at"),
        "form": form,
    }
    return render(request, "grading/my_score.html", context)
