"""Quiz pages: the course's quizzes, a quiz (start or continue), taking an attempt (countdown
from the server's deadline, autosave through the API) and reviewing it; staff import quizzes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from courseapp.courses.permissions import course_view, may
from courseapp.quizzes import authoring, selectors, services
from courseapp.quizzes.models import Attempt, AttemptState, Quiz

MAX_IMPORT_BYTES = 1 << 20


def _quiz(course, slug: str) -> Quiz:
    return get_object_or_404(Quiz.objects.select_related("lecture", "item"), course=course,
                             slug=slug)  # fmt: skip


@login_required
@course_view("quizzes")
def quiz_list(request, course):
    is_staff = may(request.user, course, "quizzes", "change")
    context = {
        "course": course, "is_staff": is_staff, "now": timezone.now(),
        "rows": selectors.student_quiz_rows(course=course, student=request.user),
    }  # fmt: skip
    return render(request, "quizzes/quiz_list.html", context)


@login_required
@course_view("quizzes")
def quiz_detail(request, course, slug: str):
    quiz = _quiz(course, slug)
    attempts = selectors.attempt_list(quiz=quiz, student=request.user)
    context = {
        "course": course, "quiz": quiz, "attempts": attempts, "now": timezone.now(),
        "is_staff": may(request.user, course, "quizzes", "change"),
        "allowed": services.attempts_allowed(quiz, request.user),
        "open_attempt": next((a for a in attempts if a.state == AttemptState.OPEN), None),
    }  # fmt: skip
    return render(request, "quizzes/quiz_detail.html", context)


@login_required
@require_POST
@course_view("quiz_attempts", "change")
def attempt_start(request, course, slug: str):
    quiz = _quiz(course, slug)
    try:
        attempt = services.attempt_start(quiz=quiz, student=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("quiz-detail", course.code, quiz.slug)
    return redirect("quiz-attempt", course.code, quiz.slug, attempt.number)


@login_required
@course_view("quiz_attempts")
def attempt_page(request, course, slug: str, number: int):
    """Taking the attempt while it is open; reviewing it once submitted."""
    quiz = _quiz(course, slug)
    attempt = get_object_or_404(Attempt, quiz=quiz, student=request.user, number=number)
    now = timezone.now()
    if attempt.state == AttemptState.OPEN and now > attempt.deadline + services.GRACE:
        attempt = services.attempt_submit(attempt=attempt, now=now, by_server=True)
    context = {
        "course": course, "quiz": quiz, "attempt": attempt, "now": now,
        "questions": selectors.attempt_questions(attempt=attempt, now=now),
        "review": selectors.review_open(attempt, now=now),
        "seconds_left": max(0.0, (attempt.deadline - now).total_seconds()),
        "grace_seconds": services.GRACE.seconds, "crumb": f"Attempt {attempt.number}",
    }  # fmt: skip
    return render(request, "quizzes/attempt.html", context)


@login_required
@require_POST
@course_view("quiz_attempts", "change")
def attempt_submit(request, course, slug: str, number: int):
    quiz = _quiz(course, slug)
    attempt = get_object_or_404(Attempt, quiz=quiz, student=request.user, number=number)
    services.attempt_submit(attempt=attempt)
    messages.success(request, "Submitted. Your saved answers are recorded.")
    return redirect("quiz-attempt", course.code, quiz.slug, attempt.number)


@login_required
@course_view("quizzes", "change")
def quiz_import(request, course):
    """Staff: create a quiz from its YAML file (as ``manage.py import_quiz``)."""
    errors = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        text = upload.read(MAX_IMPORT_BYTES + 1) if upload else request.POST.get("text", "")
        try:
            quiz = authoring.quiz_import(course=course, text=text)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, f"Imported {quiz.title}.")
            return redirect("quiz-detail", course.code, quiz.slug)
    return render(request, "quizzes/import.html", {"course": course, "errors": errors})


@login_required
@course_view("quizzes", "change")
def quiz_export(request, course, slug: str):
    from django.http import HttpResponse

    quiz = _quiz(course, slug)
    response = HttpResponse(authoring.quiz_export(quiz=quiz), content_type="application/yaml")
    response["Content-Disposition"] = f'attachment; filename="{quiz.slug}.yaml"'
    return response
