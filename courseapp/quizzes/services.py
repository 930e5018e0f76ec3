"""Taking quizzes: starting an attempt (its deadline fixed by the server), saving answers to an
append-only log, submitting (by the student, or by the server once the deadline has passed), and
the score flowing to the gradebook. Accommodations move open attempts' deadlines at once.

Every time check uses the server's clock. An answer that arrives after the deadline plus a short
grace (``GRACE``, for a slow network) is refused and recorded as refused; the answers saved before
it stand.
"""

from __future__ import annotations

import datetime
import json
import logging
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from courseapp.courses.selectors import require_student
from courseapp.courses.timezones import course_time
from courseapp.quizzes import scoring
from courseapp.quizzes.judge import JudgeUnavailable
from courseapp.quizzes.kinds import kind_of
from courseapp.quizzes.models import (
    Accommodation,
    AnswerGrade,
    AnswerSave,
    Attempt,
    AttemptState,
    Question,
    Quiz,
)
from courseapp.quizzes.selectors import (
    GRACE,
    KNOWN_ANSWERS,
    KNOWN_QUESTIONS,
    accommodation_of,
    attempts_allowed,
    counted_attempt,
    current_answers,
    deadline_for,
)
from grading.models import Source
from grading.services.scores import points_value, score_set

# Saves one attempt may append: far more than autosave makes in a quiz (every change, and every
# 15 s), few enough that a script hammering the API cannot grow the log without end.
MAX_SAVES = 3000
# A submitted attempt still without grades this long after submitting was not scored (the judge
# was unavailable): beat scores it.
UNSCORED_AFTER = datetime.timedelta(minutes=1)
log = logging.getLogger(__name__)


def _local(moment: datetime.datetime, quiz: Quiz) -> str:
    return course_time(moment, quiz.course, "%H:%M:%S %Z")


def _layout(quiz: Quiz, student, number: int) -> tuple[list[dict], dict[int, Question]]:
    """The questions this attempt shows, in order, each with its choices' order: drawn from the
    pools and shuffled with a seed of the quiz, the student and the attempt, so the same every
    time it is asked for. With the quiz's questions by pk (one query: each pool comes with its
    questions; a pool without any draws nothing, and drawing nothing takes nothing from the
    seed's sequence)."""
    rng = random.Random(f"quiz {quiz.pk} student {student.pk} attempt {number}")
    questions = list(quiz.questions.select_related("pool").order_by("position", "pk"))
    chosen = [q for q in questions if q.pool_id is None]
    pools = sorted({q.pool for q in questions if q.pool_id is not None}, key=_pool_order)
    for pool in pools:
        members = [q for q in questions if q.pool_id == pool.pk]
        chosen += rng.sample(members, min(pool.draw, len(members)))
    chosen.sort(key=lambda q: (q.position, q.pk))
    if quiz.shuffle_questions:
        rng.shuffle(chosen)
    layout = []
    for question in chosen:
        order = list(range(len(question.choices or [])))
        if quiz.shuffle_choices and kind_of(question.kind).has_choices:
            rng.shuffle(order)
        layout.append({"question": question.pk, "choices": order})
    return layout, {q.pk: q for q in questions}


def _pool_order(pool) -> tuple[int, int]:
    return pool.position, pool.pk


def attempt_start(*, quiz: Quiz, student, now: datetime.datetime | None = None) -> Attempt:
    """The student's open attempt, or a new one: a reload, a second tab or another browser
    continues the same attempt. A new one needs the quiz open and an attempt left.

    Exam day starts a whole class at once, so this reads little: the student's attempts once
    (the open one, the overdue ones, how many), the accommodation once (none if the quiz was
    read ``with_accommodation_of`` the student), the questions once (kept on the new attempt
    for the page that shows it)."""
    now = now or timezone.now()
    require_student(user=student, course=quiz.course_id)
    mine = list(Attempt.objects.filter(quiz=quiz, student=student))
    current = None
    for attempt in mine:
        if attempt.state != AttemptState.OPEN:
            continue
        if attempt.deadline < now - GRACE:
            attempt_submit(attempt=attempt, now=now, by_server=True)
        else:
            current = attempt
    if current is not None:
        current.quiz = quiz
        return current
    if now < quiz.opens_at:
        raise ValidationError(f"{quiz.title} opens at {course_time(quiz.opens_at, quiz.course)}.")
    if now >= quiz.closes_at:
        raise ValidationError(f"{quiz.title} closed at {course_time(quiz.closes_at, quiz.course)}.")
    used = len(mine)
    accommodation = accommodation_of(course=quiz.course_id, student=student, quiz=quiz)
    allowed = attempts_allowed(quiz, student, accommodation)
    if used >= allowed:
        raise ValidationError(f"You have used all {allowed} attempt(s) of {quiz.title}.")
    layout, questions = _layout(quiz, student, used + 1)
    attempt = Attempt(
        quiz=quiz,
        student=student,
        number=used + 1,
        started_at=now,
        deadline=deadline_for(quiz, now, accommodation),
        layout=layout,
    )
    try:
        with transaction.atomic():
            attempt.save()
    except IntegrityError:  # another tab started it at the same moment: continue that one
        return Attempt.objects.get(quiz=quiz, student=student, state=AttemptState.OPEN)
    setattr(attempt, KNOWN_QUESTIONS, questions)
    setattr(attempt, KNOWN_ANSWERS, {})
    return attempt


@dataclass(frozen=True)
class Saved:
    accepted: bool
    saved_at: datetime.datetime
    message: str = ""  # why it was refused
    warning: str = ""  # accepted, but the student should look again (a formula that cannot be read)
    version: int | None = None  # the highest version of the question's answer held now
    superseded: bool = False  # refused: numbered no higher than the answer already held


def answer_save(
    *,
    attempt: Attempt,
    question: Question,
    value,
    now: datetime.datetime | None = None,
    version: int | None = None,
) -> Saved:
    """Append ``value`` as the attempt's answer to ``question``. Refused (and recorded as refused)
    once the attempt is submitted or its deadline plus the grace has passed. An answer of the
    wrong shape is recorded as refused too, then raises ``AnswerError`` with the reason.

    ``version``: the page's number for this answer (it counts the question's changes). A save
    numbered no higher than an answer already held for the question is refused as
    ``superseded`` (a late duplicate of an older save, or one from a page opened before a newer
    save): the newer answer stays. Without a version, the last save to arrive counts."""
    return _answer_append({"pk": attempt.pk}, question, value, now, version)


def answer_save_to(
    *, quiz: Quiz, student, number: int, question: Question, value, now=None, version=None
) -> Saved:
    """``answer_save`` to the student's attempt ``number`` of ``quiz``, found as it is locked:
    the autosave of a whole class reads nothing else (``Attempt.DoesNotExist`` if there is no
    such attempt: another student's is not found)."""
    return _answer_append(
        {"quiz": quiz, "student": student, "number": number}, question, value, now, version
    )


def _answer_append(lookup: dict, question: Question, value, now, version) -> Saved:
    """Lock the attempt (with how many saves it holds and the question's highest version held,
    in the same query), check it, append the save: two queries in one short transaction; the
    answer is read before it."""
    now = now or timezone.now()
    problem = ""
    try:
        cleaned = scoring.answer_clean(question, value)
    except scoring.AnswerError as exc:
        problem, cleaned = str(exc), _received(value)
    saves = AnswerSave.objects.filter(attempt=OuterRef("pk")).order_by().values("attempt")
    versions = saves.filter(question=question, accepted=True)
    with transaction.atomic():
        locked = (
            Attempt.objects.select_for_update()
            .annotate(
                saves_held=Coalesce(Subquery(saves.annotate(n=Count("pk")).values("n")), 0),
                version_held=Subquery(versions.annotate(v=Max("version")).values("v")),
            )
            .get(**lookup)
        )
        if question.pk not in locked.question_pks:
            problem, cleaned = "That question is not part of this attempt.", _received(value)
        full = locked.saves_held >= MAX_SAVES
        late = now > locked.deadline + GRACE
        held = locked.version_held
        closed = (
            "late" if late else "" if locked.state == AttemptState.OPEN else "already submitted"
        )
        superseded = not closed and version is not None and held is not None and version <= held
        accepted = not (problem or closed or superseded)
        refusal = problem or closed or (f"superseded: version {held} is held" if superseded else "")
        if not full:
            AnswerSave.objects.create(
                attempt=locked,
                question=question,
                value=cleaned,
                saved_at=now,
                accepted=accepted,
                refusal=refusal[:300],
                version=version,
            )
    if problem:
        raise scoring.AnswerError(problem)
    if full:
        return Saved(
            False,
            now,
            message=(
                f"Not saved: this attempt has already saved {MAX_SAVES} answers, the most one "
                "attempt may. The answers you saved stand."
            ),
        )
    if superseded:
        return Saved(False, now, version=held, superseded=True)
    if accepted:
        held = held if version is None else max(held or 0, version)
        return Saved(True, now, warning=scoring.answer_warning(question, cleaned), version=held)
    quiz = question.quiz
    if late:
        message = (
            f"Not saved: this answer arrived at {_local(now, quiz)}, after the deadline "
            f"({_local(locked.deadline, quiz)}, with {GRACE.seconds} s of grace). The answers you "
            "saved before the deadline stand."
        )
    else:
        message = "Not saved: this attempt was already submitted. The answers saved before stand."
    return Saved(False, now, message=message)


def _received(value) -> str:
    """What a malformed save received, as ASCII JSON text cut to 1,000 characters: it can be
    stored whatever it held (NUL characters, lone surrogates, a huge list)."""
    if isinstance(value, scoring.Unreadable):
        value = value.body
    try:
        text = json.dumps(value, ensure_ascii=True, default=repr)
    except (ValueError, TypeError, RecursionError):
        text = repr(type(value))
    return text[:1000]


def _attempt_close(
    attempt: Attempt, now: datetime.datetime, by_server: bool
) -> tuple[Attempt, bool]:
    """Mark the attempt submitted (its saved answers can no longer change); whether this call
    did it."""
    with transaction.atomic():
        attempt = _known_student(Attempt.objects.select_for_update().get(pk=attempt.pk), attempt)
        if attempt.state != AttemptState.OPEN:
            return attempt, False
        attempt.state = AttemptState.SUBMITTED
        attempt.submitted_at = min(now, attempt.deadline + GRACE) if by_server else now
        attempt.submitted_by_server = by_server
        attempt.save(update_fields=["state", "submitted_at", "submitted_by_server"])
    return attempt, True


def _known_student(fresh: Attempt, known: Attempt) -> Attempt:
    """``fresh`` (the attempt read again) with ``known``'s student object if it has one: the
    request's user, whose role in the course is already read (so ``require_student`` before the
    gradebook's write asks nothing again)."""
    if Attempt.student.is_cached(known) and known.student_id == fresh.student_id:
        fresh.student = known.student
    return fresh


def attempt_submit(
    *, attempt: Attempt, now: datetime.datetime | None = None, by_server: bool = False
) -> Attempt:
    """Submit the attempt with its last accepted answers and score what can be scored; the quiz's
    score goes to the gradebook once nothing waits for a TA. Submitting twice changes nothing.

    The attempt is closed in one short transaction, its answers judged outside any (a formula
    may take the judge's whole time budget), and the grades written in another. If the judge is
    unavailable the attempt stays submitted without grades, and beat scores it later."""
    now = now or timezone.now()
    attempt, closed = _attempt_close(attempt, now, by_server)
    # Closed by this call: no grade can exist yet (grades are written for submitted attempts).
    if attempt.state == AttemptState.SUBMITTED and (closed or not attempt.grades.exists()):
        attempt = _grade_or_wait(attempt)
    return attempt


def _grade_or_wait(attempt: Attempt) -> Attempt:
    try:
        return attempt_grade(attempt=attempt)
    except JudgeUnavailable as exc:
        log.error("Attempt %s is submitted but not scored yet (%s); beat retries.", attempt.pk, exc)
        return attempt


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
        # Only the attempt's row is locked: the quiz and its item are read by the whole class.
        attempt = _known_student(
            Attempt.objects.select_for_update(of=("self",))
            .select_related("quiz__item", "student")
            .get(pk=attempt.pk),
            attempt,
        )
        existing = {g.question_id: g for g in attempt.grades.all()}
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


def attempt_score_save(
    *, attempt: Attempt, questions: dict | None = None, grades: dict | None = None
) -> Attempt:
    """Save the attempt's score (the sum of its grades; None while one waits for a TA) and its
    maximum. ``questions``: the attempt's, by pk, and ``grades``: its grades by question pk, if
    the caller has them. The quiz's score in the gradebook is ``quiz_score_sync``'s, which
    callers run next."""
    if grades is None:
        grades = {g.question_id: g for g in attempt.grades.all()}
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
    attempts = list(
        Attempt.objects.filter(quiz=quiz, student=student, state=AttemptState.SUBMITTED).order_by(
            "number"
        )
    )
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


def attempts_close_overdue(*, now: datetime.datetime | None = None) -> int:
    """Submit every open attempt whose deadline and grace have passed, with its saved answers,
    and score any attempt left submitted without grades for a minute (the judge was unavailable):
    the beat task runs this. How many it submitted."""
    now = now or timezone.now()
    overdue = Attempt.objects.filter(state=AttemptState.OPEN, deadline__lt=now - GRACE)
    count = 0
    for attempt in list(overdue.select_related("quiz")):
        attempt, closed = _attempt_close(attempt, now, by_server=True)
        count += closed
        if closed:
            _grade_or_wait(attempt)
    unscored = Attempt.objects.filter(
        state=AttemptState.SUBMITTED, grades__isnull=True, submitted_at__lt=now - UNSCORED_AFTER
    )
    for attempt in list(unscored.select_related("quiz")):
        _grade_or_wait(attempt)
    return count


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
