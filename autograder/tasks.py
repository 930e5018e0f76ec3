"""Celery tasks of the autograder: thin adapters over ``autograder.services``.

``grade_submission_task`` takes only an id and claims idempotently: a fresh delivery grades the
fairest queued submission of its queue, which is its own unless one student's burst or a regrade
batch is ahead of someone else's (``services.queue.fair_order``); a retry or redelivery takes back
the one it holds. It treats a student's crash, timeout or wrong answer as a result, never as a
reason to retry. An
infrastructure fault (``autograder.failures.TRANSIENT``) is retried with backoff, the same task
id reclaiming the submission, and after ``MAX_RETRIES`` fails it; any other error in the grading
machinery fails it at once. Either way staff see why, and nothing reaches the gradebook.
"""

from __future__ import annotations

import os
import socket
import time

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.utils import timezone

from autograder import failures, sweeper
from autograder.queues import GRADING_QUEUES, grading_task
from autograder.services.autograde import submission_grade
from autograder.services.queue import submission_claim, submission_fail, submission_record

# Twice the longest run an assignment may ask for, plus room to start and record.
GRADING_TIME_LIMIT = 2 * 3600
# Infrastructure faults: tried again after a random wait of up to 30 s, 60 s, 120 s (full jitter),
# well inside the sweeper's patience, then failed for staff.
MAX_RETRIES = 3
RETRY_BACKOFF_SECONDS = 30
RETRY_BACKOFF_MAX_SECONDS = 120


@shared_task(name="autograder.worker_ping", bind=True)
def worker_ping(self, *, sent_at: float) -> dict:
    """Answer with who ran the task (its Celery node, as the staff home lists workers, and its
    machine) and how long the message took to arrive."""
    return {
        "node": self.request.hostname or "",
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "queue_delay_s": round(time.time() - sent_at, 4),
    }


@grading_task(
    time_limit=GRADING_TIME_LIMIT,
    bind=True,
    name="autograder.grade_submission",
    autoretry_for=failures.TRANSIENT,
    max_retries=MAX_RETRIES,
    retry_backoff=RETRY_BACKOFF_SECONDS,
    retry_backoff_max=RETRY_BACKOFF_MAX_SECONDS,
)
def grade_submission_task(self, *, submission_pk: int, claim_anew: bool = False) -> str:
    token = self.request.id  # a retry keeps it, and so takes the submission back
    try:
        submission = submission_claim(
            submission_pk=submission_pk,
            token=token,
            worker=self.request.hostname or "",
            retry=bool(self.request.retries) and not claim_anew,
            queue=_grading_queue_of(self.request),
        )
    except failures.TRANSIENT as exc:
        # The fault met the claim itself, so this delivery may hold nothing: its retry claims as
        # a fresh delivery would (taking back what it holds first), not only what it holds, or
        # the message's work would be lost until the sweeper sent one again.
        raise _retry(self, exc, submission_pk=submission_pk, claim_anew=True) from exc
    if submission is None:  # its own was taken by another delivery, and nothing else waits
        return "already taken"
    started = timezone.now()
    try:
        grade = submission_grade(submission=submission)
        run = submission_record(submission=submission, grade=grade, started_at=started, token=token)
    except failures.TRANSIENT as exc:  # infrastructure: tried again (autoretry_for), never a score
        retry = self.request.retries < self.max_retries
        submission_fail(
            submission=submission, error=failures.describe(exc), retry=retry, token=token
        )
        # Holding a claim now: the retry only takes it back (a requeue meanwhile supersedes it).
        raise _retry(self, exc, submission_pk=submission_pk, claim_anew=False) from exc
    except Exception as exc:  # our bug, not the student's code: failed for staff, never a score
        submission_fail(submission=submission, error=failures.describe(exc), token=token)
        raise
    return "graded" if run else "superseded"


def _grading_queue_of(request) -> str | None:
    """The grading queue this message came from (its routing key names it, as the settings'
    queues are declared); None when it came some other way (run eagerly, or a queue of another
    name): then the submission's own queue decides."""
    key = (request.delivery_info or {}).get("routing_key")
    return key if key in GRADING_QUEUES else None


def _retry(task, exc: BaseException, *, submission_pk: int, claim_anew: bool):
    """The retry of an infrastructure fault, as ``autoretry_for`` sends it (same task id, the
    same backoff), saying whether it must claim anew; past ``MAX_RETRIES`` it raises ``exc``."""
    countdown = get_exponential_backoff_interval(
        factor=RETRY_BACKOFF_SECONDS,
        retries=task.request.retries,
        maximum=RETRY_BACKOFF_MAX_SECONDS,
        full_jitter=True,
    )
    kwargs = {"submission_pk": submission_pk, "claim_anew": claim_anew}
    return task.retry(exc=exc, kwargs=kwargs, countdown=countdown)


@shared_task(name="autograder.requeue_stuck_submissions")
def requeue_stuck_submissions() -> int:
    return sweeper.submissions_requeue_stuck()
