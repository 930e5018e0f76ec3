"""The queue's life cycle of a submission, as plain functions the Celery tasks, the sweeper and
staff's "grade again" call: claim, record, fail, give up, queue again."""

from __future__ import annotations

import socket

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Now, RowNumber
from django.utils import timezone

from autograder import blobs, dispatch, selectors
from autograder.grades import Grade, test_dicts, total_points
from autograder.models import Assignment, GradingRun, Submission, SubmissionState, grading_queue
from autograder.services.hand_grades import (
    student_submissions_lock,
    submission_score_to_gradebook,
)

# Claims of one submission (since it was submitted or staff queued it again) before it is given
# up: each one ended with its worker dying.
MAX_ATTEMPTS = 3
PENDING = (SubmissionState.QUEUED, SubmissionState.RUNNING)


def submission_claim(
    *,
    submission_pk: int,
    token: str,
    worker: str = "",
    retry: bool = False,
    queue: str | None = None,
) -> Submission | None:
    """Move a queued submission to running under ``token`` (the task's id) and ``worker`` (the
    Celery node whose heartbeat the sweeper watches); None when this delivery has nothing to
    grade. The claim time is the database's clock, as the heartbeats' are.

    A delivery that holds a claim (the same message delivered again after its worker process
    died, or the retry of an infrastructure fault: both carry the same token) takes that
    submission back, up to ``MAX_ATTEMPTS`` claims, then gives it up. A ``retry`` whose claim is
    gone (staff or the sweeper queued the submission again) does nothing: the fresh message grades
    it, with its own tries. Any other delivery is fresh and grades the fairest queued submission
    of its queue (``fair_order``), which need not be the one it was sent for: every queued
    submission has one message, so a message whose own submission was taken grades another.

    ``queue``: the Celery queue the delivery came from (None: ``submission_pk``'s queue now).
    A fresh delivery claims only from it: staff may move an assignment to or from the GPU while
    its submissions wait, and a CPU worker holding a message sent before must not grade GPU work
    (the submission is then graded by a message of its new queue, or the sweeper's resend)."""
    if not token:
        raise ValueError("a claim needs the delivery's token")
    changes = {"state_changed_at": Now(), "attempts": F("attempts") + 1, "claimed_worker": worker}
    held = _take_back(token=token, changes=changes)
    if held is None and not retry:
        held = _claim_fairest(
            submission_pk=submission_pk, token=token, changes=changes, queue=queue
        )
    if not held:
        return None
    return Submission.objects.select_related("assignment__item", "student").get(pk=held)


def _take_back(*, token: str, changes: dict) -> int | None:
    """The submission this delivery holds, claimed again: its pk; 0 when it holds one but may not
    take it (given up, or moved on since it was read); None when it holds none."""
    mine = Submission.objects.filter(claimed_by=token)
    found = mine.filter(state__in=PENDING).values_list("pk", "state", "attempts").first()
    if found is None:
        return None
    pk, state, attempts = found
    if state == SubmissionState.QUEUED:  # waiting for this delivery's retry
        taken = mine.filter(pk=pk, state=state).update(state=SubmissionState.RUNNING, **changes)
        return pk if taken else 0
    if attempts < MAX_ATTEMPTS:  # its worker process died: delivered again
        taken = mine.filter(pk=pk, state=state, attempts__lt=MAX_ATTEMPTS).update(**changes)
        return pk if taken else 0
    for submission in mine.filter(pk=pk, state=state):  # it killed the worker process every time
        submission_give_up(submission=submission)
    return 0


# Candidates read per query: a claim taken by a concurrent delivery moves on to the next one.
CANDIDATES = 8


def _claim_fairest(*, submission_pk: int, token: str, changes: dict, queue: str | None) -> int:
    """Claim the first of ``fair_order`` that no other delivery takes first: the conditional
    update (queued, unclaimed) lets one delivery win each submission, on SQLite and PostgreSQL
    alike. Returns its pk, or 0 when nothing of this queue is waiting."""
    while True:
        candidates = list(fair_order(submission_pk=submission_pk, queue=queue)[:CANDIDATES])
        for pk in candidates:
            unclaimed = Submission.objects.filter(
                pk=pk, state=SubmissionState.QUEUED, claimed_by=""
            )
            if unclaimed.update(state=SubmissionState.RUNNING, claimed_by=token, **changes):
                return pk
        if len(candidates) < CANDIDATES:
            return 0


def fair_order(*, submission_pk: int, queue: str | None = None) -> QuerySet:
    """The pks of the queued, unclaimed submissions of Celery ``queue`` (by default
    ``submission_pk``'s queue now), fairest first, so that one student's burst does not starve
    the class. Smallest first:

    1. a batch ("grade everything again") after every fresh submission and single requeue;
    2. the student's turn: how many of their submissions in this queue (any assignment) were
       served or are ahead since this one was queued (``_turns_before``); a student who sent 30
       at once has their k-th graded in round k, after every other student's first;
    3. the delivery's own submission before another's, only among equals (a tie-break);
    4. queue time, then pk: first come, first served.

    One query, whatever the queue's length: a window numbers each student's queued submissions,
    a correlated count adds the ones in flight or done since."""
    if queue is None:
        wants_gpu = Subquery(
            Submission.objects.filter(pk=submission_pk).values("assignment__wants_gpu")
        )
    else:
        wants_gpu = queue == grading_queue(True)
    return (
        Submission.objects.filter(
            state=SubmissionState.QUEUED, claimed_by="", assignment__wants_gpu=wants_gpu
        )
        .annotate(
            earlier=Window(
                RowNumber(),
                partition_by=[F("student"), F("batch")],
                order_by=[F("state_changed_at").asc(), F("pk").asc()],
            ),
            served=Coalesce(Subquery(_turns_before(), output_field=IntegerField()), 0),
            own=Case(When(pk=submission_pk, then=0), default=1),
        )
        .order_by("batch", F("earlier") + F("served"), "own", "state_changed_at", "pk")
        .values_list("pk", flat=True)
    )


def _turns_before() -> QuerySet:
    """For the queued submission ``OuterRef``: how many of its student's other submissions in
    the same queue are in flight (running, or waiting for a retry) or finished since it was
    queued. Counting those finished too is what makes it a round-robin: with in-flight ones
    only, the burst's second would rank with everyone's first as soon as its first was graded,
    and win on queue time. (Queued ones ahead of it are the window's part.) Every time compared
    is the database's clock."""
    in_flight = Q(state=SubmissionState.RUNNING) | (
        Q(state=SubmissionState.QUEUED) & ~Q(claimed_by="")
    )
    done_since = Q(
        state__in=(SubmissionState.GRADED, SubmissionState.FAILED),
        state_changed_at__gte=OuterRef("state_changed_at"),
    )
    return (
        Submission.objects.filter(
            in_flight | done_since,
            student=OuterRef("student"),
            assignment__wants_gpu=OuterRef("assignment__wants_gpu"),
        )
        .order_by()
        .values("student")
        .annotate(n=Count("pk"))
        .values("n")
    )


@transaction.atomic
def submission_record(
    *, submission: Submission, grade: Grade, started_at, token: str
) -> GradingRun | None:
    """Store the run and the score, once, and only for the delivery that holds the claim: a
    submission requeued meanwhile (staff fixed a test) is left to the newer grading."""
    student_submissions_lock(submission=submission)  # also keeps the claim till the commit
    claimed = Submission.objects.filter(
        pk=submission.pk, state=SubmissionState.RUNNING, claimed_by=token
    )
    if not claimed.exists():
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
    attempts counted from zero. A grading in progress is superseded (it records nothing). Not a
    batch: it waits as fairly as a fresh submission."""
    _queue_again([submission], batch=False)
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
    (``selectors.regrade_progress``). Returns how many were queued. They are a batch: each waits
    behind every fresh submission of its queue (``fair_order``)."""
    batch = selectors.latest_submissions(assignment=assignment)
    _queue_again(batch, batch=True)
    Assignment.objects.filter(pk=assignment.pk).update(
        regrade_started_at=Now(), regrade_batch=[s.pk for s in batch]
    )
    return len(batch)


def _queue_again(submissions: list[Submission], *, batch: bool) -> None:
    Submission.objects.filter(pk__in=[s.pk for s in submissions]).update(
        state=SubmissionState.QUEUED,
        batch=batch,
        state_changed_at=Now(),
        claimed_by="",
        claimed_worker="",
        attempts=0,
        sent_at=None,
    )
    dispatch.enqueue_on_commit(*submissions)
