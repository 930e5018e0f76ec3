"""Scoring quizzes and what staff change: a submitted attempt's answers judged and its grades
written, the score flowing to the gradebook, a TA's hand grades, accommodations (which move open
attempts' deadlines at once). An attempt's own life (start, saves, submit) is ``attempts``'s.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from courseapp.courses.selectors import require_student
from courseapp.prepared import one_or_none, prepared
from courseapp.quizzes import scoring
from courseapp.quizzes.kinds import kind_of
from courseapp.quizzes.models import (
    Accommodation,
    AnswerGrade,
    Attempt,
    AttemptState,
    Question,
    Quiz,
)
from courseapp.quizzes.selectors import (
    KNOWN_ANSWERS,
    KNOWN_QUESTIONS,
    counted_attempt,
    current_answers,
    deadline_for,
    grades_of,
    submitted_attempts_of,
)
from grading.models import Source
from grading.services.scores import points_value, score_set


def known_student(fresh: Attempt, known: Attempt) -> Attempt:
    """``fresh`` (the attempt read again) with ``known``'s student object if it has one: the
    request's user, whose role in the course is already read (so ``require_student`` before the
    gradebook's write asks nothing again)."""
    if Attempt.student.is_cached(known) and known.student_id == fresh.student_id:
        fresh.student = known.student
    return fresh


def answers_judge(*, attempt: Attempt, questions: dict, answers: dict) -> dict:
    """Question pk → (points, feedback) for each automatically graded question of the attempt.
    Outside any transaction: a formula goes to the judge. ``JudgeUnavailable`` passes on."""
    judged = {}
    for pk in attempt.question_pks:
        question = questions[pk]
        if not kind_of(question.kind).hand_graded:
            judged[pk] = scoring.score(question, answers.get(pk))
    return judged


def attempt_grade(*, attempt: Attempt, by=None, reason: str = "") -> Attempt:
    """Score each automatically graded answer of a submitted attempt (again, after a key
    changed); hand grades stay. Then the attempt's total, and the quiz's score for the student."""
    questions = Question.objects.in_bulk(attempt.question_pks)
    answers = current_answers(attempt=attempt)
    judged = answers_judge(attempt=attempt, questions=questions, answers=answers)
    graded = grades_write(attempt=attempt, judged=judged, by=by, reason=reason, questions=questions)
    # Submitted, its answers can no longer change: the response showing it reads neither again.
    setattr(graded, KNOWN_QUESTIONS, questions)
    setattr(graded, KNOWN_ANSWERS, answers)
    return graded


def grades_write(
    *,
    attempt: Attempt,
    judged: dict,
    keep_higher: bool = False,
    by=None,
    reason: str = "",
    questions: dict | None = None,
) -> Attempt:
    """Write judged points (question pk → (points, feedback)) as the attempt's grades, an empty
    grade for each free-text answer still without one, then the totals: one short transaction,
    its queries as many whatever the number of questions (new grades in one insert, changed ones
    in one update). ``keep_higher`` keeps a grade from going down. ``questions``: the attempt's,
    by pk, if the caller has them."""
    with transaction.atomic():
        locked = one_or_none(_locked_with_quiz(attempt.pk))
        if locked is None:
            raise Attempt.DoesNotExist("Attempt matching query does not exist.")
        attempt = known_student(locked, attempt)
        existing = {g.question_id: g for g in grades_of(attempt)}
        questions = questions or Question.objects.in_bulk(attempt.question_pks)
        created, changed = [], []
        for pk in attempt.question_pks:
            grade = existing.get(pk) or AnswerGrade(attempt=attempt, question=questions[pk])
            if pk not in judged:
                if grade.pk is None and kind_of(questions[pk].kind).hand_graded:
                    created.append(grade)
                continue
            points, feedback = judged[pk]
            if keep_higher and grade.points is not None and grade.points > points:
                continue
            if grade.pk is None or (grade.points, grade.feedback) != (points, feedback):
                grade.points, grade.feedback, grade.graded_at = points, feedback, timezone.now()
                grade.graded_by = None
                (created if grade.pk is None else changed).append(grade)
        AnswerGrade.objects.bulk_create(created)
        AnswerGrade.objects.bulk_update(changed, ["points", "feedback", "graded_at", "graded_by"])
        grades = {**existing, **{g.question_id: g for g in created}}
        attempt = attempt_score_save(attempt=attempt, questions=questions, grades=grades)
        quiz_score_sync(quiz=attempt.quiz, student=attempt.student, by=by, reason=reason)
        return attempt


@prepared(int)
def _locked_with_quiz(attempt_pk: int) -> QuerySet[Attempt]:
    # Only the attempt's row is locked: the quiz and its item are read by the whole class.
    # The item's course and component come with it: the gradebook's write needs them.
    attempts = Attempt.objects.select_for_update(of=("self",)).order_by()
    related = ("quiz__item__course", "quiz__item__component", "student")
    return attempts.select_related(*related).filter(pk=attempt_pk)[:21]


def attempt_score_save(
    *, attempt: Attempt, questions: dict | None = None, grades: dict | None = None
) -> Attempt:
    """Save the attempt's score (the sum of its grades; None while one waits for a TA) and its
    maximum. ``questions``: the attempt's, by pk, and ``grades``: its grades by question pk, if
    the caller has them. The quiz's score in the gradebook is ``quiz_score_sync``'s, which
    callers run next."""
    if grades is None:
        grades = {g.question_id: g for g in grades_of(attempt)}
    points = {pk: grade.points for pk, grade in grades.items()}
    questions = questions or Question.objects.in_bulk(attempt.question_pks)
    attempt.max_score = sum((questions[pk].points for pk in attempt.question_pks), Decimal(0))
    pending = any(points.get(pk) is None for pk in attempt.question_pks)
    attempt.score = (
        None if pending else sum((points[pk] for pk in attempt.question_pks), Decimal(0))
    )
    attempt.save(update_fields=["score", "max_score"])
    return attempt


def quiz_score_sync(*, quiz: Quiz, student, by=None, reason: str = "") -> None:
    """Put the student's quiz score into the gradebook: the highest or the last submitted attempt
    (as the quiz combines them), scaled to the graded item's points, once it is fully graded."""
    attempts = list(submitted_attempts_of(quiz.pk, student.pk))
    chosen = counted_attempt(quiz, attempts)
    if chosen is None:
        return
    share = chosen.score / chosen.max_score if chosen.max_score else Decimal(0)
    points = (share * quiz.item.max_points).quantize(Decimal("0.001"), ROUND_HALF_UP)
    # No submitted_at: the quiz keeps its own deadline (a late answer is refused, not penalised),
    # so the item's late policy must not count days from the item's due date as well.
    score_set(
        item=quiz.item,
        student=student,
        points=points,
        by=by,
        source=Source.QUIZ,
        reason=reason or f"attempt {chosen.number}",
    )


@transaction.atomic
def accommodation_set(
    *,
    course,
    student,
    time_factor=1,
    extra_minutes: int = 0,
    extra_attempts: int = 0,
    note: str = "",
) -> Accommodation:
    """Set a student's accommodation; the deadlines of their open attempts move at once."""
    require_student(user=student, course=course)
    factor = Decimal(str(time_factor))
    if factor < 1 or factor > 10 or extra_minutes < 0 or extra_attempts < 0:
        raise ValidationError("Extra time is a factor from 1 to 10 and minutes or attempts >= 0.")
    accommodation, _ = Accommodation.objects.update_or_create(
        course=course,
        student=student,
        defaults={
            "time_factor": factor,
            "extra_minutes": extra_minutes,
            "extra_attempts": extra_attempts,
            "note": note,
        },
    )
    open_attempts = Attempt.objects.select_for_update().filter(
        quiz__course=course, student=student, state=AttemptState.OPEN
    )
    for attempt in open_attempts.select_related("quiz"):
        attempt.deadline = deadline_for(attempt.quiz, attempt.started_at, accommodation)
        attempt.save(update_fields=["deadline"])
    return accommodation


@transaction.atomic
def answer_grade_set(*, attempt: Attempt, question: Question, points, feedback: str = "", by):
    """A TA's points for a free-text answer (or any answer, by hand); the attempt's total and
    the quiz score follow."""
    if attempt.state != AttemptState.SUBMITTED:
        raise ValidationError("Grade an attempt once it is submitted.")
    if question.pk not in attempt.question_pks:
        raise ValidationError("That question is not part of this attempt.")
    value = points_value(points, maximum=question.points)
    AnswerGrade.objects.update_or_create(
        attempt=attempt,
        question=question,
        defaults={
            "points": value,
            "feedback": feedback,
            "graded_by": by,
            "graded_at": timezone.now(),
        },
    )
    attempt = attempt_score_save(attempt=attempt)
    quiz_score_sync(quiz=attempt.quiz, student=attempt.student, by=by, reason="hand grade")
    return attempt


@transaction.atomic
def answer_grades_set(
    *, question: Question, grades: dict[Attempt, tuple[str, str]], by
) -> tuple[int, list[str]]:
    """A TA's points and comments (``grades``: attempt → (points, feedback)) for many students'
    answers to one question, in one transaction: each right one is saved, in a savepoint of its
    own, and each wrong one is left out and named. How many were saved, and the errors."""
    saved, errors = 0, []
    for attempt, (points, feedback) in grades.items():
        try:
            answer_grade_set(
                attempt=attempt, question=question, points=points, feedback=feedback, by=by
            )
        except ValidationError as exc:
            errors.append(f"{attempt.student.username}: {' '.join(exc.messages)}")
        else:
            saved += 1
    return saved, errors
