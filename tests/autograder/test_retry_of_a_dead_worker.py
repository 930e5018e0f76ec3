"""A submission waiting for the retry of an infrastructure fault, whose worker then dies (kill -9
during the backoff), is sent again about a minute after the worker's last heartbeat, as a running
one would be, not after the sweeper's 2 × 300 + 120 s for a lost message: the retry's message sits
unacknowledged with the dead worker until the broker's visibility timeout, hours on. A worker that
is alive keeps its retry. The task's own calls (claim, then fail with ``retry``) set the state; the
sweeper's ``now`` stands in for the passing of time; the message goes to the real broker."""

from __future__ import annotations

import datetime

import pytest

from autograder import sweeper
from autograder.models import Submission, SubmissionState, WorkerHeartbeat
from autograder.services.intake import submission_create
from autograder.services.queue import submission_claim, submission_fail
from autograder.workers import ALIVE_SECONDS
from tests.autograder import brokerside
from tests.autograder.nbfactory import student_notebook


def seconds(n: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=n)


@pytest.fixture
def awaiting_retry(assignment, student):
    """Claimed by worker ``w1@host`` under task ``t1``, whose sandbox did not start: the task
    failed it with a retry (the retry's message then waits for its countdown)."""
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    claimed = submission_claim(submission_pk=submission.pk, token="t1", worker="w1@host")
    assert submission_fail(
        submission=claimed, error="SandboxDidNotStart: bwrap", retry=True, token="t1"
    )
    submission.refresh_from_db()
    assert submission.state == SubmissionState.QUEUED
    yield submission
    brokerside.purge("default")


def heartbeat(*, started, last_seen, stopped=None) -> WorkerHeartbeat:
    return WorkerHeartbeat.objects.create(
        hostname="w1@host",
        queues=["default", "gpu"],
        isolation="bubblewrap",
        pid=1,
        started_at=started,
        last_seen_at=last_seen,
        stopped_at=stopped,
    )


def sweep(at, capture) -> int:
    with capture(execute=True):  # the message goes to the broker
        return sweeper.submissions_requeue_stuck(now=at)


def test_it_is_sent_again_once_its_worker_is_silent_past_the_heartbeat_limit(
    awaiting_retry, django_capture_on_commit_callbacks
):
    failed_at = awaiting_retry.state_changed_at
    heartbeat(started=failed_at - seconds(600), last_seen=failed_at)
    before = brokerside.waiting("default")

    assert sweep(failed_at + seconds(ALIVE_SECONDS), django_capture_on_commit_callbacks) == 0
    assert sweep(failed_at + seconds(ALIVE_SECONDS + 1), django_capture_on_commit_callbacks) == 1

    awaiting_retry.refresh_from_db()
    assert (awaiting_retry.state, awaiting_retry.claimed_worker) == ("queued", "")
    assert awaiting_retry.attempts == 1  # kept: the dead worker's claim counts
    assert brokerside.waiting("default") == before + 1
    # Sent once: the next sweep finds a fresh message on its way, no worker to wait for.
    later = failed_at + seconds(ALIVE_SECONDS + 20)
    assert sweep(later, django_capture_on_commit_callbacks) == 0
    assert brokerside.waiting("default") == before + 1


def test_a_worker_restarted_during_the_backoff_gives_it_back_at_once(
    awaiting_retry, django_capture_on_commit_callbacks
):
    failed_at = awaiting_retry.state_changed_at
    heartbeat(started=failed_at + seconds(2), last_seen=failed_at + seconds(2))

    assert sweep(failed_at + seconds(3), django_capture_on_commit_callbacks) == 1
    assert Submission.objects.get(pk=awaiting_retry.pk).sent_at > failed_at


def test_a_retry_whose_worker_died_while_grading_is_queued_again(
    awaiting_retry, django_capture_on_commit_callbacks
):
    """The retry took it back (same task id) and that worker was killed: it comes back like any
    dead worker's submission (on SQLite the retry's bookkeeping once kept it running forever)."""
    submission_claim(submission_pk=awaiting_retry.pk, token="t1", worker="w2@host")
    retried = Submission.objects.get(pk=awaiting_retry.pk)
    assert (retried.state, retried.attempts) == ("running", 2)

    late = retried.state_changed_at + seconds(ALIVE_SECONDS + 1)  # w2 never wrote a heartbeat
    assert sweep(late, django_capture_on_commit_callbacks) == 1

    retried.refresh_from_db()
    assert (retried.state, retried.claimed_by, retried.attempts) == ("queued", "", 2)
    assert retried.sent_at is not None


def test_a_worker_that_keeps_beating_keeps_its_retry(
    awaiting_retry, django_capture_on_commit_callbacks
):
    failed_at = awaiting_retry.state_changed_at
    two_minutes_on = failed_at + seconds(120)  # the longest backoff
    heartbeat(started=failed_at - seconds(600), last_seen=two_minutes_on - seconds(10))
    before = brokerside.waiting("default")

    assert sweep(two_minutes_on, django_capture_on_commit_callbacks) == 0

    awaiting_retry.refresh_from_db()
    assert (awaiting_retry.claimed_by, awaiting_retry.claimed_worker) == ("t1", "w1@host")
    assert brokerside.waiting("default") == before


def test_a_retry_left_when_its_worker_stopped_is_sent_again_not_given_up(
    awaiting_retry, django_capture_on_commit_callbacks
):
    """Three tries ended in infrastructure faults (a worker without the bucket's address) and the
    fourth, which the task still allows, was waiting when that worker was stopped: the sweeper
    sends it again for another worker, as the task would have tried it. Giving up is for a
    submission whose worker died under it ``MAX_ATTEMPTS`` times, not for faults the task
    counts and fails itself."""
    for _ in range(2):  # the task's retries took it back, and failed again
        submission_claim(submission_pk=awaiting_retry.pk, token="t1", worker="w1@host", retry=True)
        assert submission_fail(
            submission=awaiting_retry, error="FileMissing: blobs", retry=True, token="t1"
        )
    waiting = Submission.objects.get(pk=awaiting_retry.pk)
    assert (waiting.state, waiting.attempts) == ("queued", 3)
    failed_at = waiting.state_changed_at
    heartbeat(started=failed_at - seconds(600), last_seen=failed_at, stopped=failed_at)

    assert sweep(failed_at + seconds(1), django_capture_on_commit_callbacks) == 1

    waiting.refresh_from_db()
    assert (waiting.state, waiting.claimed_by, waiting.attempts) == ("queued", "", 3)
    assert not waiting.runs.filter(error__startswith="Gave up").exists()
