"""The sweeper (beat runs it every 15 s): submissions the queue lost are queued again.

- A queued submission whose message was never sent (the broker was down when it was submitted)
  is sent; so is one whose message went out longer ago than its assignment's time limit allows
  (the broker lost it), and one waiting for the retry of an infrastructure fault whose worker
  is gone (the retry's message is held, unacknowledged, by that worker until the broker's
  visibility timeout, hours on).
- A running submission whose worker is gone (``workers.claim_orphaned``: silent past the
  heartbeat limit, stopped, or started again since it claimed it) is queued again about a
  minute after the worker's last heartbeat, keeping its attempts; so is one running far past its
  time limit.
- A running submission stuck like that after ``MAX_ATTEMPTS`` claims is given up, once (its
  worker died under it each time); one waiting for a retry is sent again, its attempts kept.

Each change is an update conditional on the row as it was read, so two sweepers, or a sweeper
and a worker, never both act on one submission; a requeued submission's old grading finds its
claim gone and records nothing, so there is one final score.

With fair queues a message grades the fairest queued submission of its queue, not necessarily
the one it was sent for (``services.queue.fair_order``). Every queued submission still has a
message, so sending one again never loses work: a message that finds nothing queued does nothing.
A submission of a burst may wait its turn longer than its "lost message" limit; the message sent
again for it is one spare delivery, not a second grading.
"""

from __future__ import annotations

import datetime
import logging

from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from autograder import dispatch, workers
from autograder.models import Submission, SubmissionState, WorkerHeartbeat
from autograder.services.queue import MAX_ATTEMPTS, submission_give_up

logger = logging.getLogger(__name__)

# A message goes out right after its transaction commits; unsent after this, it was not sent.
SEND_GRACE = datetime.timedelta(seconds=30)
SHORTEST_LIMIT = datetime.timedelta(seconds=120)


def time_limit(submission: Submission) -> datetime.timedelta:
    """How long a submission may wait for, or spend in, one grading before the sweeper acts."""
    run = datetime.timedelta(seconds=submission.assignment.run_timeout_seconds)
    return 2 * run + SHORTEST_LIMIT


def submissions_requeue_stuck(*, now: datetime.datetime | None = None) -> int:
    """Queue again (or give up on) what is stuck; returns how many were queued again. ``now``
    defaults to the database's clock, which claims and heartbeats are written with."""
    cutoff = Now() - SHORTEST_LIMIT if now is None else now - SHORTEST_LIMIT
    found = list(
        Submission.objects.filter(
            Q(state=SubmissionState.RUNNING)
            | Q(state=SubmissionState.QUEUED, sent_at__isnull=True)
            | Q(state=SubmissionState.QUEUED, sent_at__lt=cutoff)
            | (Q(state=SubmissionState.QUEUED) & ~Q(claimed_worker=""))  # awaiting a retry
        )
        .select_related("assignment")
        .annotate(db_now=Now())
    )
    names = {s.claimed_worker for s in found if s.claimed_worker}
    beats = {b.hostname: b for b in WorkerHeartbeat.objects.filter(hostname__in=names)}
    done = [sweep_one(s, beat=beats.get(s.claimed_worker), now=now or s.db_now) for s in found]
    return done.count("queued again")


def sweep_one(submission: Submission, *, beat: WorkerHeartbeat | None, now) -> str:
    """Act on one submission as it was read: "queued again", "given up", or "" (on its way,
    or moved on since it was read)."""
    why = stuck_reason(submission, beat, now)
    if not why:
        return ""
    # Its worker died under it MAX_ATTEMPTS times. A queued one waiting for a retry ended its
    # tries in infrastructure faults, which the task counts and fails itself: sent again.
    if submission.state == SubmissionState.RUNNING and submission.attempts >= MAX_ATTEMPTS:
        return "given up" if submission_give_up(submission=submission) else ""
    if not _queue_again_as_read(submission):
        return ""
    logger.warning("Submission %s queued again: %s", submission.pk, why)
    return "queued again"


def stuck_reason(submission: Submission, beat: WorkerHeartbeat | None, now) -> str:
    """Why ``submission`` needs the sweeper, or "" when it is on its way."""
    limit = time_limit(submission)
    gone = bool(submission.claimed_worker) and workers.claim_orphaned(
        claimed_at=submission.state_changed_at, beat=beat, now=now
    )
    if submission.state == SubmissionState.QUEUED:
        if submission.sent_at is None:
            waited = now - submission.state_changed_at
            return "its message was never sent (the broker was down)" if waited > SEND_GRACE else ""
        if gone:  # its retry's message waits, unacknowledged, in the dead worker's hands
            return f"its worker {submission.claimed_worker} is gone before trying it again"
        return "its message was lost" if now - submission.sent_at > limit else ""
    if gone:
        return f"its worker {submission.claimed_worker} is gone"
    return "it ran past its time limit" if now - submission.state_changed_at > limit else ""


def _queue_again_as_read(submission: Submission) -> bool:
    """Queue ``submission`` again, keeping its attempts, if it is still as it was read: another
    sweeper, its worker or staff may have moved it since."""
    as_read = Submission.objects.filter(
        pk=submission.pk,
        state=submission.state,
        claimed_by=submission.claimed_by,
        claimed_worker=submission.claimed_worker,
        attempts=submission.attempts,
        sent_at=submission.sent_at,
    )
    # A fresh message for any delivery to claim; sent_at marks it taken for sending (cleared
    # again if sending fails). No worker holds it now, so no claim or retry is awaited.
    changes = {"claimed_by": "", "claimed_worker": "", "sent_at": timezone.now()}
    if submission.state != SubmissionState.QUEUED:
        changes.update(state=SubmissionState.QUEUED, state_changed_at=Now(), sent_at=None)
    if not as_read.update(**changes):
        return False
    dispatch.enqueue_on_commit(submission)
    return True
