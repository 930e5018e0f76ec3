"""Hand grades of written answers, and the bridge that puts a submission's score in the
gradebook (``grading.services.scores.score_set``)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from autograder import selectors
from autograder.grades import total_points
from autograder.models import ManualGrade, Submission
from grading.models import Source
from grading.services.scores import points_value, score_set


@transaction.atomic
def manual_grade_set(
    *, submission: Submission, grade_id: str, points, comment: str = "", by
) -> ManualGrade:
    """A TA's points for a written answer; the submission's total and the gradebook follow."""
    run = selectors.latest_run(submission=submission)
    tests = run.tests if run else []
    test = next((t for t in tests if t["name"] == grade_id and t["status"] == "manual"), None)
    if test is None:
        raise ValidationError(f"{grade_id} is not a hand-graded cell of this submission.")
    points = points_value(points, maximum=Decimal(test["max_score"]), what=f"{grade_id}: points")
    grade, _ = ManualGrade.objects.update_or_create(
        submission=submission,
        grade_id=grade_id,
        defaults={"points": points, "comment": comment, "graded_by": by},
    )
    score = total_points(run.tests, selectors.manual_points(submission=submission))
    Submission.objects.filter(pk=submission.pk).update(score=score)
    if selectors.is_newest_graded(submission=submission):  # an older one's total is not the grade
        submission_score_to_gradebook(
            submission=submission,
            score=score,
            maximum=run.max_score,
            reason=f"Hand grade of {grade_id}",
            by=by,
        )
    return grade


def student_submissions_lock(*, submission: Submission) -> None:
    """Hold every submission of ``submission``'s student for its assignment until the transaction
    ends (in pk order, so two holders never deadlock). A grading takes it before recording: two
    gradings of one student's submissions recording at once (two workers, a burst) then take
    turns, and the second asks ``is_newest_graded`` after the first committed. Without it, #1
    could find itself the newest graded while #2 was still running, and write its score after #2
    wrote its own (on PostgreSQL; SQLite runs one writer at a time). A hand grade needs no more:
    it updates its submission's row before asking, so a grading recording meanwhile waits for it
    here, and it waits for such a grading."""
    mine = Submission.objects.filter(
        assignment=submission.assignment_id, student=submission.student_id
    )
    list(mine.select_for_update().order_by("pk").values_list("pk", flat=True))


def submission_score_to_gradebook(
    *, submission: Submission, score: Decimal, maximum: Decimal, reason: str, by=None
) -> None:
    """The submission's score, scaled to its graded item's points, as the student's score."""
    item = submission.assignment.item
    points = (score / maximum * item.max_points).quantize(Decimal("0.001")) if maximum else 0
    score_set(
        item=item,
        student=submission.student,
        points=points,
        by=by,
        source=Source.AUTOGRADER,
        reason=reason,
        submitted_at=submission.created_at,
    )
