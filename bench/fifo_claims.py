"""For ``burst.py --fifo`` only, never in a deployment: a worker started with ``--include
fifo_claims`` (``bench/`` on its path) grades as before fair queues, each message its own
submission, in the broker's order (first sent, first graded). It replaces the one function that
orders the queue (``autograder.services.queue.fair_order``), so claims, retries and records stay
the real ones; the worker imports it before its pool forks."""

from __future__ import annotations

from autograder.models import Submission, SubmissionState
from autograder.services import queue


def own_only(*, submission_pk: int):
    return Submission.objects.filter(
        pk=submission_pk, state=SubmissionState.QUEUED, claimed_by=""
    ).values_list("pk", flat=True)


queue.fair_order = own_only
