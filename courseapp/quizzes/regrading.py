"""Changing a question's key or points after students answered it: a preview that lists exactly
the attempt scores that would change (computed by doing the regrade and rolling it back, so the
preview and the change cannot disagree), then the change itself, logged with its reason. An option
keeps any student's points on the question from going down."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from courseapp.quizzes import scoring, services
from courseapp.quizzes.authoring import question_points
from courseapp.quizzes.judge import JudgeUnavailable
from courseapp.quizzes.models import Attempt, AttemptState, Question, QuestionChange
from courseapp.quizzes.selectors import answers_of


@dataclass(frozen=True)
class ScoreChange:
    student: str
    attempt: int
    old: Decimal | None  # the attempt's score; None: waiting for a TA
    new: Decimal | None


class _Rollback(Exception):
    def __init__(self, changes: list[ScoreChange]) -> None:
        self.changes = changes


def question_change(
    *,
    question: Question,
    by,
    reason: str = "",
    key: dict | None = None,
    points=None,
    keep_higher: bool = False,
    apply: bool = False,
) -> list[ScoreChange]:
    """The attempt scores that the new ``key`` and/or ``points`` change; applied (and logged)
    only with ``apply``. ``keep_higher``: a student's points on this question never go down.
    The new key is checked and every answer judged before any transaction opens."""
    if apply and not reason.strip():
        raise ValidationError("Say why the question changes: students see their scores move.")
    old = {"key": question.key, "points": str(question.points)}
    changed = Question.objects.get(pk=question.pk)
    if key is not None:
        try:
            changed.key = scoring.key_validate(changed.kind, key, changed.choices)
        except ValidationError as exc:
            raise ValidationError(f"The new key: {' '.join(exc.messages)}") from exc
    if points is not None:
        changed.points = question_points(points, changed.slug)
    attempts = [
        a
        for a in Attempt.objects.filter(quiz=question.quiz_id, state=AttemptState.SUBMITTED)
        .select_related("student", "quiz__item")
        .order_by("student__username", "number")
        if question.pk in a.question_pks
    ]
    answers = answers_of(attempts=attempts, question=question)
    try:
        judged = {
            a.pk: scoring.score(changed, answers.get(a.pk, {}).get(question.pk)) for a in attempts
        }
    except JudgeUnavailable as exc:
        raise ValidationError(f"Nothing changed: {exc} Try again in a minute.") from exc
    try:
        with transaction.atomic():
            changes = _regrade(
                changed, old, attempts, judged, by=by, reason=reason, keep_higher=keep_higher
            )
            if not apply:
                raise _Rollback(changes)
    except _Rollback as preview:
        return preview.changes
    question.refresh_from_db()
    return changes


def _regrade(question: Question, old: dict, attempts, judged, *, by, reason, keep_higher):
    question.save(update_fields=["key", "points"])
    changes = []
    for attempt in attempts:
        before = attempt.score
        points, feedback = judged[attempt.pk]
        # Free text (points None): its grade stays, and the total follows the new points.
        mine = {} if points is None else {question.pk: (points, feedback)}
        after = services.grades_write(
            attempt=attempt,
            judged=mine,
            keep_higher=keep_higher,
            by=by,
            reason=f"{question.slug} changed: {reason}",
        ).score
        if before != after:
            changes.append(ScoreChange(attempt.student.username, attempt.number, before, after))
    QuestionChange.objects.create(
        question=question,
        changed_by=by,
        reason=reason,
        old=old,
        keep_higher=keep_higher,
        new={"key": question.key, "points": str(question.points)},
        changed_scores=[
            {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(c).items()}
            for c in changes
        ],
    )
    return changes
