"""Regrade requests: a student asks about a published score; staff accept or decline it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from grading.models import RegradeRequest, RegradeStatus, Score
from grading.services.scores import score_override


def regrade_request_create(*, score: Score, student, message: str) -> RegradeRequest:
    if score.student_id != student.pk:
        raise ValidationError("You can ask for a regrade of your own scores only.")
    if not score.item.published:
        raise ValidationError("This score is not published yet; wait until it is.")
    if not message.strip():
        raise ValidationError("Say what you think is wrong with the score.")
    try:
        with transaction.atomic():
            return RegradeRequest.objects.create(score=score, message=message.strip())
    except IntegrityError as exc:
        raise ValidationError(
            "You already have an open regrade request for this score; wait for its answer."
        ) from exc


def _resolve(request: RegradeRequest, *, status: str, reply: str, by) -> RegradeRequest:
    request = RegradeRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != RegradeStatus.OPEN:
        raise ValidationError(f"This request was already {request.get_status_display().lower()}.")
    if not reply.strip():
        raise ValidationError("Write a reply: the student reads it.")
    request.status, request.reply = status, reply.strip()
    request.resolved_by, request.resolved_at = by, timezone.now()
    request.save(update_fields=["status", "reply", "resolved_by", "resolved_at"])
    return request


@transaction.atomic
def regrade_request_accept(*, request: RegradeRequest, points, reply: str, by) -> RegradeRequest:
    """Accept with a new score: an override whose reason is the reply, so it is in the history."""
    request = _resolve(request, status=RegradeStatus.ACCEPTED, reply=reply, by=by)
    score_override(score=request.score, points=points, reason=f"Regrade: {request.reply}", by=by)
    return request


@transaction.atomic
def regrade_request_decline(*, request: RegradeRequest, reply: str, by) -> RegradeRequest:
    return _resolve(request, status=RegradeStatus.DECLINED, reply=reply, by=by)
