"""Quiz pages: the course's quizzes, a quiz (start or continue), taking an attempt (countdown
from the server's deadline, autosave through the API) and reviewing it; staff import quizzes."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from courseapp.courses.permissions import course_view, may
from courseapp.quizzes import attempts, authoring, forms, regrading, selectors, services, statistics
from courseapp.quizzes.kinds import hand_graded
from courseapp.quizzes.models import Attempt, AttemptState, Question, Quiz


def _quiz(course, slug: str, student=None) -> Quiz:
    """The course's quiz (through ``course.quizzes``, so ``quiz.course`` is not read again), with
    what starting it needs to know of ``student`` if given
    (``selectors.with_start_state``)."""
    quizzes = course.quizzes.select_related("lecture", "item")
    if student is not None:
        quizzes = selectors.with_start_state(quizzes, student)
    return get_object_or_404(quizzes, slug=slug)


def _attempt(request, course, slug: str, number: int) -> Attempt:
    """The student's own attempt with its quiz, in one query (another student's is not found)."""
    attempt = get_object_or_404(
        Attempt.objects.select_related("quiz__lecture", "quiz__item"),
        quiz__course=course,
        quiz__slug=slug,
        student=request.user,
        number=number,
    )
    attempt.quiz.course = course
    attempt.student = request.user  # found among theirs; its role in the course is read
    return attempt


@login_required
@course_view("quizzes")
def quiz_list(request, course):
    is_staff = may(request.user, course, "quizzes", "change")
    context = {
        "course": course,
        "is_staff": is_staff,
        "now": timezone.now(),
        "rows": selectors.student_quiz_rows(course=course, student=request.user),
    }
    return render(request, "quizzes/quiz_list.html", context)


@login_required
@course_view("quizzes")
def quiz_detail(request, course, slug: str):
    quiz = _quiz(course, slug)
    attempts = selectors.attempt_list(quiz=quiz, student=request.user)
    context = {
        "course": course,
        "quiz": quiz,
        "attempts": attempts,
        "now": timezone.now(),
        "is_staff": may(request.user, course, "quizzes", "change"),
        "allowed": selectors.attempts_allowed(quiz, request.user),
        "open_attempt": next((a for a in attempts if a.state == AttemptState.OPEN), None),
    }
    return render(request, "quizzes/quiz_detail.html", context)


@login_required
@require_POST
@course_view("quiz_attempts", "change")
def attempt_start(request, course, slug: str):
    quiz = _quiz(course, slug, student=request.user)
    try:
        attempt = attempts.attempt_start(quiz=quiz, student=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("quiz-detail", course.code, quiz.slug)
    return redirect("quiz-attempt", course.code, quiz.slug, attempt.number)


@login_required
@course_view("quiz_attempts")
def attempt_page(request, course, slug: str, number: int):
    """Taking the attempt while it is open; reviewing it once submitted."""
    attempt = _attempt(request, course, slug, number)
    quiz = attempt.quiz
    now = timezone.now()
    if attempt.state == AttemptState.OPEN and now > attempt.deadline + attempts.GRACE:
        attempt = attempts.attempt_submit(attempt=attempt, now=now, by_server=True)
    context = {
        "course": course,
        "quiz": quiz,
        "attempt": attempt,
        "now": now,
        "questions": selectors.attempt_questions(attempt=attempt, now=now),
        "review": selectors.review_open(attempt, now=now),
        "score_shown": selectors.attempt_score_visible(attempt, now=now),
        "seconds_left": max(0.0, (attempt.deadline - now).total_seconds()),
        "grace_seconds": attempts.GRACE.seconds,
        "crumb": f"Attempt {attempt.number}",
    }
    return render(request, "quizzes/attempt.html", context)


@login_required
@require_POST
@course_view("quiz_attempts", "change")
def attempt_submit(request, course, slug: str, number: int):
    attempt = _attempt(request, course, slug, number)
    attempts.attempt_submit(attempt=attempt)
    messages.success(request, "Submitted. Your saved answers are recorded.")
    return redirect("quiz-attempt", course.code, slug, attempt.number)


@login_required
@course_view("quizzes", "change")
def quiz_import(request, course):
    """Staff: create a quiz from its YAML file (as ``manage.py import_quiz``)."""
    errors = []
    posted = request.method == "POST"
    form = forms.QuizImportForm(*((request.POST, request.FILES) if posted else ()))
    if posted and not form.is_valid():
        errors = forms.error_text(form)
    elif posted:
        try:
            quiz = authoring.quiz_import(course=course, text=form.quiz_text())
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, f"Imported {quiz.title}.")
            return redirect("quiz-detail", course.code, quiz.slug)
    return render(request, "quizzes/import.html", {"course": course, "errors": errors})


@login_required
@course_view("quizzes", "change")
def quiz_export(request, course, slug: str):
    quiz = _quiz(course, slug)
    response = HttpResponse(authoring.quiz_export(quiz=quiz), content_type="application/yaml")
    response["Content-Disposition"] = f'attachment; filename="{quiz.slug}.yaml"'
    return response


@login_required
@course_view("quizzes", "change")
def hand_grading(request, course, slug: str):
    """Staff: the quiz's free-text questions and how many answers wait for a grade."""
    quiz = _quiz(course, slug)
    context = {"course": course, "quiz": quiz, "rows": selectors.hand_grading_queue(quiz=quiz)}
    return render(request, "quizzes/hand_grading.html", context)


@login_required
@course_view("quizzes", "change")
def hand_grading_question(request, course, slug: str, question: str):
    """Staff: one question's answers across students, each with points and a comment."""
    quiz = _quiz(course, slug)
    found = get_object_or_404(Question, quiz=quiz, slug=question, kind__in=hand_graded())
    rows = selectors.answers_to_grade(question=found)
    errors = []
    if request.method == "POST":
        form = forms.HandGradesForm(request.POST, attempts=[row["attempt"] for row in rows])
        if form.is_valid():
            saved, errors = services.answer_grades_set(
                question=found, grades=form.grades(), by=request.user
            )
        else:
            saved, errors = 0, forms.error_text(form)
        if not errors:
            messages.success(request, f"Saved {saved} grade{'s' if saved != 1 else ''}.")
            return redirect("quiz-hand-grading-question", course.code, quiz.slug, found.slug)
        rows = selectors.answers_to_grade(question=found)
    context = {
        "course": course,
        "quiz": quiz,
        "question": found,
        "rows": rows,
        "errors": errors,
        "prompt": found.prompt,
    }
    return render(request, "quizzes/hand_grading_question.html", context)


@login_required
@course_view("quizzes", "change")
def quiz_stats(request, course, slug: str):
    """Staff, once the quiz has closed: per question and for the whole quiz."""
    quiz = _quiz(course, slug)
    closed = timezone.now() >= quiz.closes_at
    stats = statistics.quiz_statistics(quiz=quiz) if closed else None
    return render(
        request,
        "quizzes/stats.html",
        {"course": course, "quiz": quiz, "stats": stats, "closed": closed},
    )


@login_required
@course_view("quizzes", "change")
def accommodations(request, course):
    """Staff: each student's extra time and attempts; open attempts' deadlines move at once."""
    if request.method == "POST":
        form = forms.AccommodationForm(request.POST)
        valid = form.is_valid()
        username = form.cleaned_data.get("username") or ""
        student = get_object_or_404(get_user_model(), username=username)
        try:
            if valid:
                services.accommodation_set(course=course, student=student, **form.accommodation())
        except ValidationError as exc:
            form.add_error(None, exc)
        if form.errors:
            messages.error(request, f"{student.username}: {' '.join(forms.error_text(form))}")
        else:
            messages.success(request, f"Saved {student.username}'s accommodation.")
        return redirect("quiz-accommodations", course.code)
    context = {"course": course, "rows": selectors.accommodation_rows(course=course)}
    return render(request, "quizzes/accommodations.html", context)


@login_required
@course_view("quizzes", "change")
def question_change(request, course, slug: str, question: str):
    """Staff: change a question's key or points; "Preview" lists every attempt score that would
    change, "Apply" changes them (with a reason, logged)."""
    quiz = _quiz(course, slug)
    found = get_object_or_404(Question, quiz=quiz, slug=question)
    posted = request.method == "POST"
    form = forms.QuestionChangeForm(
        request.POST if posted else None,
        initial={"key": json.dumps(found.key), "points": str(found.points)},
    )
    changes, errors = None, []
    if posted and not form.is_valid():
        errors = forms.error_text(form)
    elif posted:
        data = form.cleaned_data
        try:
            changes = regrading.question_change(
                question=found,
                by=request.user,
                reason=data["reason"],
                key=data["key"],
                points=data["points"],
                keep_higher=data["keep_higher"],
                apply=data["apply"],
            )
        except ValidationError as exc:
            errors.extend(exc.messages)
        else:
            if data["apply"]:
                messages.success(request, f"Changed {found.slug}: {len(changes)} score(s) moved.")
                return redirect("quiz-detail", course.code, quiz.slug)
    context = {
        "course": course,
        "quiz": quiz,
        "question": found,
        "form": form.shown(),
        "changes": changes,
        "errors": errors,
        "log": found.changes.select_related("changed_by")[:20],
    }
    return render(request, "quizzes/question_change.html", context)
