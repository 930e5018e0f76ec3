"""Reading quizzes: an attempt's current answers (the last accepted save of each question), and
what a student may see of a quiz when."""

from __future__ import annotations

import datetime
from enum import StrEnum

from django.conf import settings
from django.db.models import Count, F, FilteredRelation, Q, QuerySet
from django.utils import timezone

from courseapp.courses.models import Course
from courseapp.courses.selectors import student_enrollments
from courseapp.prepared import one_or_none, prepared
from courseapp.quizzes.kinds import hand_graded, kind_of
from courseapp.quizzes.models import (
    Accommodation,
    AnswerGrade,
    AnswerSave,
    Attempt,
    AttemptState,
    Combine,
    Question,
    Quiz,
    Review,
)
from courseapp.quizzes.rendering import render_prompt


def current_answers(*, attempt: Attempt) -> dict[int, object]:
    """Question pk → the last accepted answer saved for it."""
    return answers_of(attempts=[attempt]).get(attempt.pk, {})


def held_answers(*, attempt: Attempt) -> tuple[dict[int, object], dict[int, int]]:
    """``current_answers``, and question pk → the highest version of its answer held (the
    number a page counts on from: ``attempts.answer_save``), in the same one query."""
    versions: dict[int, dict[int, int]] = {}
    answers = answers_of(attempts=[attempt], versions=versions)
    return answers.get(attempt.pk, {}), versions.get(attempt.pk, {})


def answers_of(*, attempts, question=None, versions=None) -> dict[int, dict[int, object]]:
    """Attempt pk → question pk → the last accepted answer, for many attempts in one query
    (only ``question``'s, if given). Last as the saves took the attempt's lock (their pk), not by
    ``saved_at``: each save reads its time before it waits for the lock, so a racing save stamped
    earlier can be accepted later, over a lower version (``attempts.answer_save``).
    ``versions``, if given, is filled with attempt pk → question pk → the highest version held."""
    one = isinstance(attempts, list) and len(attempts) == 1
    if one and question is None and type(attempts[0].pk) is int:
        rows = _saves_of_one(attempts[0].pk)  # a submit, the attempt page: compiled once
    else:
        saves = AnswerSave.objects.filter(attempt__in=attempts, accepted=True)
        if question is not None:
            saves = saves.filter(question=question)
        rows = saves.order_by("pk").values_list("attempt_id", "question_id", "value", "version")
    answers: dict[int, dict[int, object]] = {}
    for attempt_pk, question_pk, value, version in rows:
        answers.setdefault(attempt_pk, {})[question_pk] = value
        if versions is not None and version is not None:
            held = versions.setdefault(attempt_pk, {})
            held[question_pk] = max(held.get(question_pk, 0), version)
    return answers


@prepared(int)
def _saves_of_one(attempt_pk: int):
    saves = AnswerSave.objects.filter(attempt=attempt_pk, accepted=True).order_by("pk")
    return saves.values_list("attempt_id", "question_id", "value", "version")


def grades_of(attempt: Attempt) -> list[AnswerGrade]:
    """``attempt.grades.all()``, compiled once (each grade's ``attempt`` is ``attempt``)."""
    grades = list(_grades_of(attempt.pk))
    for grade in grades:
        grade.attempt = attempt
    return grades


@prepared(int)
def _grades_of(attempt_pk: int):
    return AnswerGrade.objects.filter(attempt=attempt_pk)


@prepared(int, int)
def attempts_of(quiz_pk: int, student_pk: int) -> QuerySet[Attempt]:
    """The student's attempts of the quiz (in the model's order), compiled once."""
    return Attempt.objects.filter(quiz=quiz_pk, student=student_pk)


@prepared(int, int)
def submitted_attempts_of(quiz_pk: int, student_pk: int) -> QuerySet[Attempt]:
    """The student's submitted attempts of the quiz, by number, compiled once."""
    attempts = Attempt.objects.filter(quiz=quiz_pk, student=student_pk)
    return attempts.filter(state=AttemptState.SUBMITTED).order_by("number")


# An answer that arrives this long after its attempt's deadline still counts (a slow network).
GRACE = datetime.timedelta(seconds=settings.QUIZ_GRACE_SECONDS)


def points_visible(quiz: Quiz, *, now: datetime.datetime | None = None) -> bool:
    """The one rule of when a student may see their score on ``quiz`` (a submitted attempt's
    score, the quiz's score in their grades, their total with it): after submitting when the
    review policy says so, else once the quiz has closed and no answer can still be saved: the
    close plus ``GRACE`` (a classmate whose deadline was the close may save until then). A quiz
    whose review is "never" never shows the key or the points per question (``review_open``),
    but its score is a grade like any other and appears after the close, so that a student's
    total and letter are never computed without it. Staff always see everything."""
    return quiz.review == Review.AFTER_SUBMIT or (now or timezone.now()) >= quiz.closes_at + GRACE


def attempt_score_visible(attempt: Attempt, *, now: datetime.datetime | None = None) -> bool:
    """May the student see the submitted attempt's score (``points_visible``)?"""
    return attempt.state == AttemptState.SUBMITTED and points_visible(attempt.quiz, now=now)


def review_open(attempt: Attempt, *, now: datetime.datetime | None = None) -> bool:
    """May the student see the key, the points per question and the explanations? Once the
    attempt is submitted and its points are visible, unless the review policy is "never"."""
    return attempt.quiz.review != Review.NEVER and attempt_score_visible(attempt, now=now)


def quiz_items_hidden(*, course, now: datetime.datetime) -> set[int]:
    """The graded items of the course's quizzes whose points students may not see at ``now``
    (registered with ``grading.visibility``: My grades and the grades API hide them)."""
    quizzes = Quiz.objects.filter(course=course).only("item_id", "review", "closes_at")
    return {q.item_id for q in quizzes if not points_visible(q, now=now)}


def quiz_list(*, course) -> list[Quiz]:
    return list(Quiz.objects.filter(course=course).select_related("lecture", "item"))


def attempt_list(*, quiz: Quiz, student) -> list[Attempt]:
    return list(Attempt.objects.filter(quiz=quiz, student=student).order_by("number"))


# What ``attempt_start`` already read for an attempt it has just created, kept on the instance so
# that the response showing it reads neither again: its questions by pk, and that it has no answers.
KNOWN_QUESTIONS = "_known_questions"
KNOWN_ANSWERS = "_known_answers"


def attempt_questions(*, attempt: Attempt, now: datetime.datetime | None = None) -> list[dict]:
    """The attempt's questions as the student sees them, in the attempt's order, with their
    current answers (and each one's version held, which the page counts on from); with the key,
    the points earned and the explanation only once the review is open (``review_open``)."""
    questions = getattr(attempt, KNOWN_QUESTIONS, None)
    if questions is None:
        questions = Question.objects.in_bulk(attempt.question_pks)
    answers, versions = getattr(attempt, KNOWN_ANSWERS, None), {}
    if answers is None:
        answers, versions = held_answers(attempt=attempt)
    review = review_open(attempt, now=now)
    grades = {g.question_id: g for g in grades_of(attempt)} if review else {}
    shown = []
    for number, entry in enumerate(attempt.layout, start=1):
        question = questions[entry["question"]]
        kind, answer = kind_of(question.kind), answers.get(question.pk)
        answered = answer not in (None, "", [])
        choices = [{"value": i, "text": question.choices[i]} for i in entry["choices"]]
        item = {
            "number": number,
            "slug": question.slug,
            "kind": question.kind,
            "widget": kind.widget,
            "hint": kind.hint,
            "input_mode": kind.input_mode,
            "prompt_html": render_prompt(question.prompt),
            "points": question.points,
            "choices": choices,
            "answer": answer,
            "answered": answered,
            "answer_text": kind.answer_text(answer, choices) if answered else "",
            "version": versions.get(question.pk, 0),
        }
        if review:
            grade = grades.get(question.pk)
            item["review"] = {
                "key": question.key,
                "key_text": kind.key_text(question.key, choices),
                "explanation_html": render_prompt(question.explanation),
                "earned": None if grade is None else grade.points,
                "feedback": "" if grade is None else grade.feedback,
            }
        shown.append(item)
    return shown


class Window(StrEnum):
    """Where ``now`` falls in a quiz's window (pages show the value)."""

    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


def quiz_window(quiz: Quiz, *, now: datetime.datetime) -> Window:
    if now < quiz.opens_at:
        return Window.UPCOMING
    return Window.CLOSED if now >= quiz.closes_at else Window.OPEN


def student_quiz_rows(*, course, student, now: datetime.datetime | None = None) -> list[dict]:
    """Each quiz of the course with the student's attempts and what they can do next."""
    now = now or timezone.now()
    attempts: dict[int, list[Attempt]] = {}
    for attempt in Attempt.objects.filter(quiz__course=course, student=student).order_by("number"):
        attempts.setdefault(attempt.quiz_id, []).append(attempt)
    rows = []
    for quiz in quiz_list(course=course):
        mine = attempts.get(quiz.pk, [])
        state = quiz_window(quiz, now=now)
        current = next((a for a in mine if a.state == AttemptState.OPEN), None)
        rows.append({"quiz": quiz, "attempts": mine, "state": state, "open_attempt": current})
    return rows


def hand_grading_queue(*, quiz: Quiz) -> list[dict]:
    """The quiz's free-text questions with how many submitted answers wait for a TA."""
    rows = []
    for question in quiz.questions.filter(kind__in=hand_graded()).order_by("position", "pk"):
        grades = AnswerGrade.objects.filter(
            question=question, attempt__state=AttemptState.SUBMITTED
        )
        rows.append(
            {
                "question": question,
                "waiting": grades.filter(points__isnull=True).count(),
                "graded": grades.filter(points__isnull=False).count(),
            }
        )
    return rows


def answers_to_grade(*, question) -> list[dict]:
    """Every submitted attempt's answer to ``question``, with its grade so far, by student."""
    attempts = (
        Attempt.objects.filter(quiz=question.quiz_id, state=AttemptState.SUBMITTED)
        .select_related("student")
        .order_by("student__username", "number")
    )
    drew = [a for a in attempts if question.pk in a.question_pks]
    grades = {g.attempt_id: g for g in AnswerGrade.objects.filter(question=question)}
    answers = answers_of(attempts=drew, question=question)
    return [
        {
            "attempt": a,
            "answer": answers.get(a.pk, {}).get(question.pk) or "",
            "grade": grades.get(a.pk),
        }
        for a in drew
    ]


def accommodation_of(
    *, course: Course | int, student, quiz: Quiz | None = None
) -> Accommodation | None:
    """The student's extra time and attempts in the course, if any (from ``quiz`` without a query
    when it was read ``with_start_state``)."""
    if quiz is not None and hasattr(quiz, "accommodation_pk"):
        if quiz.accommodation_pk is None:
            return None
        return Accommodation(
            course_id=quiz.course_id,
            student=student,
            **{field: getattr(quiz, f"accommodation_{field}") for field in ACCOMMODATION_READ},
        )
    return Accommodation.objects.filter(course=course, student=student).first()


# What a quiz read ``with_start_state`` carries of the student's accommodation.
ACCOMMODATION_READ = ("pk", "time_factor", "extra_minutes", "extra_attempts")


def with_start_state(quizzes: QuerySet[Quiz], student) -> QuerySet[Quiz]:
    """``quizzes``, each read in the same query with what starting it needs to know of
    ``student``: their accommodation in its course (``accommodation_of`` then asks nothing), how
    many attempts they have made (``attempts_made``) and how many are open (``attempts_open``).
    A whole class starting a quiz at once reads two rows fewer each.

    The accommodation is one LEFT JOIN (at most one row: one per student and course) and the
    attempts another, counted twice in one pass (grouped by the quiz): Django builds and compiles
    it in about a third of the CPU that six correlated subqueries took (bench/request_cpu.py)."""
    theirs = "course__accommodations"
    return quizzes.annotate(
        start_accommodation=FilteredRelation(
            theirs, condition=Q(**{f"{theirs}__student": student})
        ),
        start_attempts=FilteredRelation("attempts", condition=Q(attempts__student=student)),
    ).annotate(
        attempts_made=Count("start_attempts"),
        attempts_open=Count("start_attempts", filter=Q(start_attempts__state=AttemptState.OPEN)),
        **{
            f"accommodation_{field}": F(f"start_accommodation__{field}")
            for field in ACCOMMODATION_READ
        },
    )


# What a class sends on exam day, read by statements compiled once (``courseapp.prepared``): each
# answers what the ORM lookup beside it in the views did (a unique key: one row or none).


def quiz_to_start(*, course: Course, slug: str, student) -> Quiz | None:
    """The course's quiz ``slug`` read ``with_start_state`` of ``student`` (its course is
    ``course``, not read again)."""
    quiz = one_or_none(_quiz_to_start(course.pk, slug, student.pk))
    if quiz is not None:
        quiz.course = course
    return quiz


@prepared(int, str, int)
def _quiz_to_start(course_pk: int, slug: str, student_pk: int) -> QuerySet[Quiz]:
    quizzes = Quiz.objects.filter(course_id=course_pk, slug=slug).order_by()
    return with_start_state(quizzes, student_pk)[:21]


def question_with_quiz(*, course: Course, slug: str, question: str) -> Question | None:
    """The course's quiz ``slug``'s question ``question``, with its quiz (whose course is
    ``course``, not read again)."""
    found = one_or_none(_question_with_quiz(course.pk, slug, question))
    if found is not None:
        found.quiz.course = course
    return found


@prepared(int, str, str)
def _question_with_quiz(course_pk: int, slug: str, question: str) -> QuerySet[Question]:
    questions = Question.objects.select_related("quiz").order_by()
    return questions.filter(quiz__course=course_pk, quiz__slug=slug, slug=question)[:21]


def attempt_with_quiz(*, course: Course, slug: str, student, number: int) -> Attempt | None:
    """The student's attempt ``number`` of the course's quiz ``slug``, with its quiz (whose
    course is ``course``) and its student (``student``): neither read again."""
    attempt = one_or_none(_attempt_with_quiz(course.pk, slug, student.pk, number))
    if attempt is not None:
        attempt.quiz.course = course
        attempt.student = student
    return attempt


@prepared(int, str, int, int)
def _attempt_with_quiz(course_pk: int, slug: str, student_pk: int, number: int):
    attempts = Attempt.objects.select_related("quiz").order_by()
    return attempts.filter(
        quiz__course=course_pk, quiz__slug=slug, student=student_pk, number=number
    )[:21]


@prepared(int)
def quiz_questions(quiz_pk: int) -> QuerySet[Question]:
    """The quiz's questions with their pools, in order."""
    return Question.objects.filter(quiz=quiz_pk).select_related("pool").order_by("position", "pk")


def time_allowed(quiz: Quiz, accommodation) -> datetime.timedelta:
    """The quiz's time limit × the student's factor + their extra minutes."""
    limit = quiz.time_limit
    if accommodation is not None:
        limit = limit * float(accommodation.time_factor)
        limit += datetime.timedelta(minutes=accommodation.extra_minutes)
    return limit


def deadline_for(quiz: Quiz, started_at: datetime.datetime, accommodation) -> datetime.datetime:
    """``min(start + the student's time allowed, the quiz's close)``."""
    return min(started_at + time_allowed(quiz, accommodation), quiz.closes_at)


# ``attempts_allowed``'s default: the caller has not read the accommodation (None: it has, and
# there is none, so it is not asked for again).
UNREAD = object()


def attempts_allowed(quiz: Quiz, student, accommodation=UNREAD) -> int:
    """The quiz's attempts plus the student's extra ones (``accommodation``: theirs, or None for
    none, if the caller has read it already)."""
    if accommodation is UNREAD:
        accommodation = accommodation_of(course=quiz.course_id, student=student)
    return quiz.attempts_allowed + (accommodation.extra_attempts if accommodation else 0)


def counted_attempt(quiz: Quiz, submitted: list[Attempt]) -> Attempt | None:
    """Of a student's submitted attempts (in order), the one whose score counts, as the quiz
    combines them: the last, or the highest share of those graded (the later on a tie). None
    while that attempt has no score yet (a free-text answer waits for a TA)."""
    if quiz.combine == Combine.LAST:
        last = submitted[-1] if submitted else None
        return last if last is not None and last.score is not None else None
    graded = [a for a in submitted if a.score is not None]
    return max(
        graded, key=lambda a: (a.score / a.max_score if a.max_score else 0, a.number), default=None
    )


def accommodation_rows(*, course) -> list[dict]:
    """Every student of the course with their accommodation, if any."""
    found = {a.student_id: a for a in Accommodation.objects.filter(course=course)}
    enrollments = student_enrollments(course=course).order_by("user__username")
    return [{"student": e.user, "accommodation": found.get(e.user_id)} for e in enrollments]
