"""An attempt's life: starting it (its deadline fixed by the server) or continuing the open one,
saving answers to an append-only log, closing and submitting it (by the student, or by the
server once the deadline has passed); the scoring that follows is ``services``'s.

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

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from courseapp.courses.selectors import require_student
from courseapp.courses.timezones import course_time
from courseapp.prepared import one_or_none, prepared
from courseapp.quizzes import scoring, services
from courseapp.quizzes.judge import JudgeUnavailable
from courseapp.quizzes.kinds import kind_of
from courseapp.quizzes.models import AnswerSave, Attempt, AttemptState, Question, Quiz
from courseapp.quizzes.selectors import (
    GRACE,
    KNOWN_ANSWERS,
    KNOWN_QUESTIONS,
    accommodation_of,
    attempts_allowed,
    attempts_of,
    deadline_for,
    quiz_questions,
)

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
    questions = list(quiz_questions(quiz.pk))
    for question in questions:
        question.quiz = quiz  # as ``quiz.questions`` would leave it
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
    (the open one, the overdue ones, how many), the accommodation once, the questions once
    (kept on the new attempt for the page that shows it). A quiz read ``with_start_state`` of
    the student has the accommodation and the attempts' counts already: with none open, the
    attempts are not read at all."""
    now = now or timezone.now()
    require_student(user=student, course=quiz.course_id)
    if getattr(quiz, "attempts_open", None) == 0:  # nothing to continue or to close
        used = quiz.attempts_made
    else:
        mine = list(attempts_of(quiz.pk, student.pk))
        current = _open_one(mine, now)
        if current is not None:
            current.quiz = quiz
            return current
        used = len(mine)
    if now < quiz.opens_at:
        raise ValidationError(f"{quiz.title} opens at {course_time(quiz.opens_at, quiz.course)}.")
    if now >= quiz.closes_at:
        raise ValidationError(f"{quiz.title} closed at {course_time(quiz.closes_at, quiz.course)}.")
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


def _open_one(mine: list[Attempt], now: datetime.datetime) -> Attempt | None:
    """Of the student's attempts, the open one to continue; one whose time and grace are over
    is submitted here (with its saved answers) instead."""
    current = None
    for attempt in mine:
        if attempt.state != AttemptState.OPEN:
            continue
        if attempt.deadline < now - GRACE:
            attempt_submit(attempt=attempt, now=now, by_server=True)
        else:
            current = attempt
    return current


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
    return _answer_append((attempt.pk,), question, value, now, version)


def answer_save_to(
    *, quiz: Quiz, student, number: int, question: Question, value, now=None, version=None
) -> Saved:
    """``answer_save`` to the student's attempt ``number`` of ``quiz``, found as it is locked:
    the autosave of a whole class reads nothing else (``Attempt.DoesNotExist`` if there is no
    such attempt: another student's is not found)."""
    return _answer_append((quiz.pk, student.pk, number), question, value, now, version)


def _answer_append(lookup: tuple, question: Question, value, now, version) -> Saved:
    """Lock the attempt, then read how many saves it holds and the question's highest version
    held, check it, append the save: three queries in one short transaction; the answer is
    read before it. The count and the version are read after the lock, in a statement of their
    own: on PostgreSQL a subquery of the locking statement would see the database as it was
    before that statement waited for the lock, so two racing saves would both miss each other
    (both accepted, the older one last). ``lookup``: the attempt's pk, or its quiz's pk, its
    student's and its number; the statements are compiled once (``courseapp.prepared``)."""
    now = now or timezone.now()
    problem = ""
    try:
        cleaned = scoring.answer_clean(question, value)
    except scoring.AnswerError as exc:
        problem, cleaned = str(exc), _received(value)
    with transaction.atomic():
        locked = one_or_none(_locked(*lookup))
        if locked is None:
            raise Attempt.DoesNotExist("Attempt matching query does not exist.")
        saves, held = one_or_none(_held(locked.pk, question.pk)) or (0, None)
        if question.pk not in locked.question_pks:
            problem, cleaned = "That question is not part of this attempt.", _received(value)
        full = saves >= MAX_SAVES
        late = now > locked.deadline + GRACE
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


@prepared(int)
def _locked_by_pk(pk: int):
    return Attempt.objects.select_for_update().filter(pk=pk).order_by()[:21]


@prepared(int, int, int)
def _locked_by_number(quiz_pk: int, student_pk: int, number: int):
    attempts = Attempt.objects.select_for_update().order_by()
    return attempts.filter(quiz=quiz_pk, student=student_pk, number=number)[:21]


def _locked(*lookup: int):
    """The attempt, locked: by its pk, or by its quiz's pk, its student's and its number."""
    return _locked_by_pk(*lookup) if len(lookup) == 1 else _locked_by_number(*lookup)


@prepared(int, int)
def _held(attempt_pk: int, question_pk: int):
    """How many saves the attempt holds and the question's highest version accepted: one row,
    or none for an attempt without saves (as ``aggregate`` over none: 0 and None)."""
    saves = AnswerSave.objects.filter(attempt=attempt_pk).order_by().values("attempt")
    return saves.annotate(
        saves=Count("pk"),
        version=Max("version", filter=Q(question=question_pk, accepted=True)),
    ).values_list("saves", "version")


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
        locked = one_or_none(_locked(attempt.pk))
        if locked is None:
            raise Attempt.DoesNotExist("Attempt matching query does not exist.")
        attempt = services.known_student(locked, attempt)
        if attempt.state != AttemptState.OPEN:
            return attempt, False
        attempt.state = AttemptState.SUBMITTED
        attempt.submitted_at = min(now, attempt.deadline + GRACE) if by_server else now
        attempt.submitted_by_server = by_server
        attempt.save(update_fields=["state", "submitted_at", "submitted_by_server"])
    return attempt, True


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
        return services.attempt_grade(attempt=attempt)
    except JudgeUnavailable as exc:
        log.error("Attempt %s is submitted but not scored yet (%s); beat retries.", attempt.pk, exc)
        return attempt


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
