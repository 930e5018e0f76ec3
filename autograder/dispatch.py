"""Sending grading messages to the broker: once each, after the transaction commits, never
blocking the caller on a broker that is down.

A submission whose message went out has ``sent_at``; one whose message could not be sent keeps it
empty and stays queued, and the sweeper (``autograder.sweeper``) sends it when the broker is back.
The database is the record of what must be graded; the broker only carries the news.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from celery import current_app  # the project's app (see autograder.queues)
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError

from autograder.models import Submission, grading_queue

logger = logging.getLogger(__name__)

GRADE_TASK = "autograder.grade_submission"
# One try, a short connect and reply timeout, no retry loop: kombu's default waits ~6 s and the
# result store's reconnect loop ~19 s more on a broker that refuses connections.
CONNECT_TIMEOUT = 1.0
SEND_ONCE = {"max_retries": 0, "socket_connect_timeout": CONNECT_TIMEOUT, "socket_timeout": 1.0}


def enqueue_on_commit(*submissions: Submission) -> None:
    """Send each submission's grading message once the current transaction commits."""
    if submissions:
        # robust: nothing after the commit turns a stored submission into an error page.
        transaction.on_commit(lambda: send(submissions), robust=True)


def send(submissions: Sequence[Submission]) -> bool:
    """Publish a grading message for each submission, once; True when all went. Those sent get
    ``sent_at`` (in the database and on the objects); on a broker error the rest get none, are
    logged, and wait for the sweeper. Grading results live in the database, so no result is
    kept in the broker's result store (and nothing waits on it)."""
    sent: list[Submission] = []
    try:
        with current_app.connection_for_write(
            connect_timeout=CONNECT_TIMEOUT, transport_options=SEND_ONCE
        ) as connection:
            for submission in submissions:
                current_app.send_task(
                    GRADE_TASK,
                    kwargs={"submission_pk": submission.pk},
                    queue=grading_queue(submission.assignment.wants_gpu),
                    connection=connection,
                    retry=False,
                    ignore_result=True,
                )
                sent.append(submission)
    except (KombuError, OSError) as exc:
        logger.warning(
            "The broker did not take %d grading message(s); the sweeper sends them when it is "
            "back: %s",
            len(submissions) - len(sent),
            exc,
        )
    except Exception:  # our bug, not the broker's: loud, but the submissions are safe
        logger.exception("Sending grading messages failed; the sweeper will try again")
    _mark(sent, timezone.now())
    _mark([s for s in submissions if s not in sent], None)
    return len(sent) == len(submissions)


def _mark(submissions: list[Submission], sent_at) -> None:
    if submissions:
        Submission.objects.filter(pk__in=[s.pk for s in submissions]).update(sent_at=sent_at)
        for submission in submissions:
            submission.sent_at = sent_at


def receipt(submission: Submission) -> str:
    """What the student is told once a submission is stored: it counts either way, and they
    need not submit again when the broker was down."""
    if submission.sent_at is not None:
        return f"Submission #{submission.number} is queued for grading."
    return (
        f"Submission #{submission.number} is received and counts; the grading queue is not "
        "answering right now, so grading starts when it is back. No need to submit again."
    )
