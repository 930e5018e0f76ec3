"""Scores, and every way they change. Each change that alters a score appends one ScoreHistory entry
(old, new, who, when, why, source); a change that alters nothing writes nothing.

Quizzes and the autograder call ``score_set`` with their own ``source``; staff use it too, and
``score_override`` (a reason is required, the raw score stays beside it), excusals, team scores and
extensions.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from courseapp.courses.models import Team
from courseapp.courses.selectors import require_student
from courseapp.courses.timezones import course_time
from courseapp.prepared import one_or_none, prepared
from grading import computation as calc
from grading import selectors
from grading.models import Extension, GradedItem, Score, ScoreHistory, Source

TRACKED = (
    "status",
    "raw_points",
    "submitted_at",
    "override_points",
    "override_reason",
    "adjustment",
    "team_id",
    "comment",
)


def points_value(value, *, maximum: Decimal, what: str = "Points") -> Decimal:
    """``value`` as Decimal points from 0 to ``maximum`` with at most 3 decimals, or a
    ValidationError that says what is wrong."""
    try:
        points = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValidationError(f"{what} {value!r} is not a number.") from exc
    if not points.is_finite():
        raise ValidationError(f"{what} {value!r} is not a number.")
    if points < 0:
        raise ValidationError(f"{what} {points} is negative.")
    if points > maximum:
        raise ValidationError(f"{what} {points} is above the maximum of {calc.plain(maximum)}.")
    if points != points.quantize(Decimal("0.001")):
        raise ValidationError(f"{what} {points} has more than 3 decimal places.")
    return points


@dataclass(frozen=True)
class _Context:
    """What a score's final points depend on besides the score: the late policy, the due date."""

    policy: calc.LatePolicy
    due_at: datetime.datetime | None


def _context(score: Score) -> _Context | None:
    scheme = selectors.grading_scheme_current(course=score.item.course)
    if scheme is None:
        return None
    policy = selectors.scheme_spec(scheme).policy_for(score.item.component.name)
    return _Context(policy, selectors.due_at_for(item=score.item, student=score.student_id))


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 7.000 and 7 are the same score
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)


def _snapshot(score: Score, context: _Context | None) -> dict:
    """The tracked fields as text, with the final points and penalty they give."""
    data = {field: _text(getattr(score, field)) for field in TRACKED}
    result = None
    if context is not None:
        item, spec = selectors.item_spec(score.item), selectors.score_spec(score)
        result = calc.score_item(item, spec, context.due_at, context.policy)
    data["final"] = None if result is None else _text(result.earned)
    data["penalty"] = None if result is None else _text(result.penalty)
    return data


def _apply(score: Score, *, by, logged_as: str, reason: str, **changes) -> Score:
    """Apply ``changes`` to ``score`` (a new, unsaved one when ``score`` has no pk) and log it.
    The same points again (an autograder re-run, an unchanged import) cost no query.

    A new score is inserted in a savepoint: two writers that both found no row (two workers
    grading one student's submissions at once, a quiz submitted while staff type a score) race to
    insert it, and the one that loses applies its change to the row the other committed, as if it
    had come second, rather than failing on the unique constraint."""
    if score.pk is None:
        try:
            with transaction.atomic():
                return _change(score, by=by, logged_as=logged_as, reason=reason, **changes)
        except IntegrityError:
            first = _locked(score.item, score.student)
            if first.pk is None:
                raise  # not the race: some other constraint
            score = first
    return _change(score, by=by, logged_as=logged_as, reason=reason, **changes)


def _change(score: Score, *, by, logged_as: str, reason: str, **changes) -> Score:
    if score.pk is not None and all(getattr(score, k) == v for k, v in changes.items()):
        return score
    context = _context(score)
    before = _snapshot(score, context) if score.pk else None
    for field, value in changes.items():
        setattr(score, field, value)
    score.save()
    after = _snapshot(score, context)
    if before is not None and {k: before[k] for k in TRACKED} == {k: after[k] for k in TRACKED}:
        return score  # only the source moved (the same points from elsewhere): nothing to log
    ScoreHistory.objects.create(
        score=score, changed_by=by, source=logged_as, reason=reason, old=before, new=after
    )
    return score


def _locked(item: GradedItem, student) -> Score:
    """The student's score on ``item``, locked (a new one, unsaved, if there is none), holding
    the caller's ``item``: what the caller has read with it (its course, its component) is not
    read again."""
    score = one_or_none(_locked_score(item.pk, getattr(student, "pk", student)))
    if score is None:
        return Score(item=item, student=student)
    score.item = item
    return score


@prepared(int, int)
def _locked_score(item_pk: int, student_pk: int):
    scores = Score.objects.select_for_update().filter(item=item_pk, student=student_pk)
    return (scores if scores.ordered else scores.order_by("pk"))[:1]


@transaction.atomic
def score_set(
    *,
    item: GradedItem,
    student,
    points,
    by,
    source: Source | str,
    reason: str = "",
    submitted_at: datetime.datetime | None = None,
    comment: str | None = None,
) -> Score:
    """Record ``points`` as the student's raw score on ``item`` (status graded)."""
    require_student(user=student, course=item.course_id)
    points = points_value(points, maximum=item.max_points)
    score = _locked(item, student)
    changes = {"raw_points": points, "status": calc.Status.GRADED, "source": Source(source)}
    if submitted_at is not None:
        changes["submitted_at"] = submitted_at
    if comment is not None:
        changes["comment"] = comment
    return _apply(score, by=by, logged_as=source, reason=reason, **changes)


@transaction.atomic
def score_set_status(
    *, item: GradedItem, student, status: calc.Status | str, by, reason: str
) -> Score:
    """Excuse an item for one student (it counts for neither sum) or mark it missing (0)."""
    status = calc.Status(status)
    if status == calc.Status.GRADED:
        raise ValidationError("Use score_set to grade; this sets excused or missing.")
    if not reason.strip():
        raise ValidationError(f"Say why the item is {status.value}.")
    require_student(user=student, course=item.course_id)
    score = _locked(item, student)
    return _apply(
        score,
        by=by,
        logged_as=Source.MANUAL,
        reason=reason,
        status=status,
        source=score.source or Source.MANUAL,
    )


@transaction.atomic
def score_override(*, score: Score, points, reason: str, by) -> Score:
    """Staff set the final points themselves; the raw score is kept beside them."""
    if not reason.strip():
        raise ValidationError("An override needs a reason; the student and other staff see it.")
    points = points_value(points, maximum=score.item.max_points, what="Override")
    score = Score.objects.select_for_update().get(pk=score.pk)
    return _apply(
        score,
        by=by,
        logged_as=Source.MANUAL,
        reason=reason,
        override_points=points,
        override_reason=reason,
        status=calc.Status.GRADED,
    )


@transaction.atomic
def score_override_clear(*, score: Score, reason: str, by) -> Score:
    if not reason.strip():
        raise ValidationError("Say why the override is removed.")
    score = Score.objects.select_for_update().get(pk=score.pk)
    return _apply(
        score,
        by=by,
        logged_as=Source.MANUAL,
        reason=reason,
        override_points=None,
        override_reason="",
    )


@transaction.atomic
def team_score_set(
    *, item: GradedItem, team: Team, points, by, reason: str = "", source=Source.MANUAL
) -> list[Score]:
    """One score for the team, copied to each member, keeping the link to the team."""
    if not item.team_graded:
        raise ValidationError(f"{item.name} is graded per student, not per team.")
    if team.course_id != item.course_id:
        raise ValidationError(f"Team {team.name} is not in {item.course.code}.")
    points = points_value(points, maximum=item.max_points)
    members = [m.enrollment.user for m in team.memberships.select_related("enrollment__user")]
    if not members:
        raise ValidationError(f"Team {team.name} has no members.")
    scores = []
    for student in members:
        score = _locked(item, student)
        scores.append(
            _apply(
                score,
                by=by,
                logged_as=source,
                reason=reason or f"Team score of {team.name}",
                raw_points=points,
                status=calc.Status.GRADED,
                team=team,
                source=Source(source),
            )
        )
    return scores


@transaction.atomic
def team_member_adjust(*, score: Score, adjustment, reason: str, by) -> Score:
    """Move one member's share of a team score up or down (the result stays within 0..max)."""
    if score.team_id is None:
        raise ValidationError("Only a team score has per-member adjustments.")
    if not reason.strip():
        raise ValidationError("An individual adjustment needs a reason.")
    try:
        adjustment = Decimal(str(adjustment))
    except InvalidOperation as exc:
        raise ValidationError(f"Adjustment {adjustment!r} is not a number.") from exc
    if abs(adjustment) > score.item.max_points:
        raise ValidationError(f"An adjustment beyond ±{score.item.max_points} makes no sense.")
    score = Score.objects.select_for_update().get(pk=score.pk)
    return _apply(score, by=by, logged_as=Source.MANUAL, reason=reason, adjustment=adjustment)


@transaction.atomic
def extension_grant(
    *, item: GradedItem, student, due_at: datetime.datetime, reason: str, by
) -> Extension:
    """Move the item's due date for one student. A score already there is re-penalised from the
    new date, and the change of its final points goes into the history."""
    require_student(user=student, course=item.course_id)
    if item.due_at is not None and due_at <= item.due_at:
        raise ValidationError("An extension moves the due date later, not earlier.")
    score = Score.objects.select_for_update().filter(item=item, student=student).first()
    before = _snapshot(score, _context(score)) if score else None
    extension, _ = Extension.objects.update_or_create(
        item=item, student=student, defaults={"due_at": due_at, "reason": reason, "granted_by": by}
    )
    if score is not None:
        after = _snapshot(score, _context(score))
        if after != before:
            ScoreHistory.objects.create(
                score=score,
                changed_by=by,
                source=Source.MANUAL,
                reason=f"Extension to {course_time(due_at, item.course)}: {reason}".rstrip(": "),
                old=before,
                new=after,
            )
    return extension


@transaction.atomic
def graded_item_update(*, item: GradedItem, by, reason: str = "", **changes) -> GradedItem:
    """Change an item (due date, maximum, …). Every score whose final points move because of it
    gets a history entry, so a changed due date or maximum is never a silent regrade."""
    scores = list(Score.objects.select_for_update().filter(item=item).select_related("item"))
    before = {score.pk: _snapshot(score, _context(score)) for score in scores}
    for field, value in changes.items():
        setattr(item, field, value)
    item.full_clean()
    item.save()
    why = f"{item.name} changed ({', '.join(sorted(changes))})" + (f": {reason}" if reason else "")
    for score in scores:
        score.item = item
        after = _snapshot(score, _context(score))
        if after != before[score.pk]:
            ScoreHistory.objects.create(
                score=score,
                changed_by=by,
                source=Source.MANUAL,
                old=before[score.pk],
                new=after,
                reason=why,
            )
    return item
