"""The queue's life cycle of a submission, as plain functions the Celery tasks, the sweeper and
staff's "grade again" call: claim, record, fail, give up, queue again."""

from __future__ import annotations

import socket

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone

from autograder import blobs, dispatch, selectors
from autograder.grades import Grade, test_dicts, total_points
from autograder.models import Assignment, GradingRun, Submission, SubmissionState
from autograder.services.hand_grades import submission_score_to_gradebook

# Claims of one submission (since it was submitted or staff queued it again) before it is given
# up: each one ended with its worker dying.
MAX_ATTEMPTS = 3
PENDING = (SubmissionState.QUEUED, SubmissionState.RUNNING)


def submission_claim(
    *, submission_pk: int, token: str, worker: str = "", retry: bool = False
) -> Submission | None:
    """Move a queued submission to running under ``token`` (the task's id) and ``worker`` (the
    Celery node whose heartbeat the sweeper watches); None when it is not this delivery's to
    grade. The same message delivered again after its worker process died carries the same token
    and takes the submission back, up to ``MAX_ATTEMPTS`` claims, then gives it up; any other
    delivery finds it taken and does nothing. A ``retry`` (of an infrastructure fault) takes only
    a submission still waiting for it: once staff or the sweeper queued it again, the fresh
    message grades it, with its own tries. The claim time is the database's clock, as the
    heartbeats' are."""
    changes = {"state_changed_at": Now(), "attempts": F("attempts") + 1, "claimed_worker": worker}
    mine = Submission.objects.filter(pk=submission_pk)
    again = mine.filter(state=SubmissionState.RUNNING, claimed_by=token)
    queued = mine.filter(state=SubmissionState.QUEUED)
    if retry:
        queued = queued.filter(claimed_by=token)
    claimed = queued.update(
        state=SubmissionState.RUNNING, claimed_by=token, **changes
    ) or again.filter(attempts__lt=MAX_ATTEMPTS).update(**changes)
    if claimed:
        return Submission.objects.select_related("assignment__item", "student").get(
            pk=submission_pk
        )
    for submission in again:  # it killed the worker process every time
        submission_give_up(submission=submission)
    return None


@transaction.atomic
def submission_record(
    *, submission: Submission, grade: Grade, started_at, token: str
) -> GradingRun | None:
    """Store the run and the score, once, and only for the delivery that holds the claim: a
    submission requeued meanwhile (staff fixed a test) is left to the newer grading."""
    if (
        not Submission.objects.select_for_update()
        .filter(pk=submission.pk, state=SubmissionState.RUNNING, claimed_by=token)
        .exists()
    ):
        return None
    tests = test_dicts(grade)
    score = total_points(tests, selectors.manual_points(submission=submission))
    run = GradingRun.objects.create(
        submission=submission,
        worker=socket.gethostname(),
        isolation=grade.isolation,
        device=grade.device,
        started_at=started_at,
        finished_at=timezone.now(),
        duration_seconds=grade.duration_seconds,
        score=score,
        max_score=grade.max_score,
        tests=tests,
        notes=grade.notes,
        log=grade.log[-8000:],
        executed_sha256=blobs.put(grade.executed) if grade.executed else "",
        executed_notebooks={n: blobs.put(c) for n, c in grade.executed_notebooks.items()},
    )
    Submission.objects.filter(pk=submission.pk).update(
        state=SubmissionState.GRADED,
        state_changed_at=Now(),
        score=score,
        max_score=grade.max_score,
    )
    if selectors.is_newest_graded(submission=submission):
        submission_score_to_gradebook(
            submission=submission,
            score=score,
            maximum=grade.max_score,
            reason=f"Submission #{submission.number}",
        )
    return run


def submission_fail(
    *, submission: Submission, error: str, retry: bool = False, token: str | None = None
) -> bool:
    """Grading itself failed (not the student's code): say so on a run of its own, keep the
    score as it was (nothing reaches the gradebook). ``retry``: the task tries again after a
    backoff, so the submission waits queued (its message counted as sent now, for the
    sweeper); else it is failed, for staff to look at.

    Only a queued or running submission fails, and once: True when this call changed it. With
    ``token``, only while that claim holds it: a grading superseded by a requeue leaves the newer
    one alone."""
    pending = Submission.objects.filter(pk=submission.pk, state__in=PENDING)
    if token is not None:
        pending = pending.filter(claimed_by=token)
    if retry:
        # sent_at as dispatch writes it (the sender's clock): the sweeper's conditional update
        # matches it exactly, and SQLite stores the database's clock as text of another format.
        changes = {"state": SubmissionState.QUEUED, "sent_at": timezone.now()}
    else:
        changes = {"state": SubmissionState.FAILED}
    # The database's clock, as claims and heartbeats: the sweeper compares it with the worker's
    # heartbeat to tell a retry whose worker died.
    if not pending.update(state_changed_at=Now(), **changes):
        return False
    prefix = "Will be tried again: " if retry else ""
    GradingRun.objects.create(
        submission=submission,
        worker=socket.gethostname(),
        isolation="",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        error=(prefix + error)[-4000:],
    )
    return True


def submission_give_up(*, submission: Submission) -> bool:
    """It was claimed ``MAX_ATTEMPTS`` times and each time its worker died: stop, for staff to
    look at (unless it moved on since it was read)."""
    return submission_fail(
        submission=submission,
        error=f"Gave up after {MAX_ATTEMPTS} attempts.",
        token=submission.claimed_by,
    )


@transaction.atomic
def submission_requeue(*, submission: Submission) -> Submission:
    """Grade again from the start (staff, after fixing a test): a fresh message, a new claim,
    attempts counted from zero. A grading in progress is superseded (it records nothing)."""
    _queue_again([submission])
    submission.refresh_from_db()
    return submission


def submission_regrade(*, assignment: Assignment, submission_pk: int) -> int:
    """Staff's "grade this submission again", from a page or the API: the submission of
    ``assignment`` with that id is queued again. Returns how many were queued (0 when the id is
    not one of the assignment's)."""
    targets = list(assignment.submissions.filter(pk=submission_pk))
    for submission in targets:
        submission_requeue(submission=submission)
    return len(targets)


@transaction.atomic
def assignment_regrade(*, assignment: Assignment) -> int:
    """Grade every student's newest submission again, and remember the batch for its progress
    (``selectors.regrade_progress``). Returns how many were queued."""
    batch = selectors.latest_submissions(assignment=assignment)
    _queue_again(batch)
    Assignment.objects.filter(pk=assignment.pk).update(
        regrade_started_at=Now(), regrade_batch=[s.pk for s in batch]
    )
    return len(batch)


def _queue_again(submissions: list[Submission]) -> None:
    Submission.objects.filter(pk__in=[s.pk for s in submissions]).update(
        state=SubmissionState.QUEUED,
        state_changed_at=Now(),
        claimed_by="",
        claimed_worker="",
        attempts=0,
        sent_at=None,
    )
    dispatch.enqueue_on_commit(*submissions)
