"""Celery tasks of the autograder: thin adapters over ``autograder.services``.

``grade_submission_task`` takes only an id, claims the submission idempotently, and treats a
student's crash, timeout or wrong answer as a result, never as a reason to retry. An unexpected
error in the grading machinery marks the submission failed for staff to look at.
"""

from __future__ import annotations

import os
import socket
import time

from celery import shared_task
from django.utils import timezone

from autograder import services, sweeper
from courseapp.celery import grading_task

# Twice the longest run an assignment may ask for, plus room to start and record.
GRADING_TIME_LIMIT = 2 * 3600


@shared_task(name="autograder.worker_ping")
def worker_ping(*, sent_at: float) -> dict:
    """Answer with who ran the task and how long the message took to arrive."""
    return {
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "queue_delay_s": round(time.time() - sent_at, 4),
    }


@grading_task(time_limit=GRADING_TIME_LIMIT, bind=True, name="autograder.grade_submission")
def grade_submission_task(self, *, submission_pk: int) -> str:
    submission = services.submission_claim(
        submission_pk=submission_pk, token=self.request.id, worker=self.request.hostname or ""
    )
    if submission is None:
        return "already taken"
    started = timezone.now()
    try:
        files = services.submission_files(submission)
        grade = services.grade_files(submission.assignment, files)
        run = services.submission_record(
            submission=submission, grade=grade, started_at=started, token=self.request.id
        )
    except Exception as exc:  # the machinery failed, not the student's code: record and stop
        services.submission_fail(submission=submission, error=repr(exc), token=self.request.id)
        raise
    return "graded" if run else "superseded"


@shared_task(name="autograder.requeue_stuck_submissions")
def requeue_stuck_submissions() -> int:
    return sweeper.submissions_requeue_stuck()
