"""A running submission whose worker is gone comes back to the queue about a minute after the
worker's last heartbeat (not after the sweeper's old 2 × 300 + 120 s), keeping its attempts; a
worker that is only slow keeps it. The sweeper's ``now`` stands in for the passing of time; the
message it sends goes to the real broker."""

from __future__ import annotations

import datetime

import pytest

from autograder import sweeper
from autograder.models import Submission, SubmissionState, WorkerHeartbeat
from autograder.services.intake import submission_create
from autograder.services.queue import submission_claim
from autograder.workers import ALIVE_SECONDS
from tests.autograder import brokerside
from tests.autograder.nbfactory import student_notebook


def seconds(n: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=n)


@pytest.fixture
def running(assignment, student):
    """A submission claimed by worker ``w1@host`` under task ``t1``."""
    submission = submission_create(
        assignment=assignment, student=student, files={"a1.ipynb": student_notebook()}
    )
    submission_claim(submission_pk=submission.pk, token="t1", worker="w1@host")
    submission.refresh_from_db()
    yield submission
    brokerside.purge("default")


def heartbeat(hostname: str, *, started, last_seen, stopped=None) -> WorkerHeartbeat:
    return WorkerHeartbeat.objects.create(
        hostname=hostname,
        queues=["default", "gpu"],
        isolation="rlimits",
        pid=1,
        started_at=started,
        last_seen_at=last_seen,
        stopped_at=stopped,
    )


def sweep(at, django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks(execute=True):  # the message goes to the broker
        return sweeper.submissions_requeue_stuck(now=at)


def test_it_comes_back_once_the_worker_is_silent_past_the_heartbeat_limit(
    running, django_capture_on_commit_callbacks
):
    claimed_at = running.state_changed_at
    last_beat = claimed_at + seconds(15)
    heartbeat("w1@host", started=claimed_at - seconds(3600), last_seen=last_beat)
    before = brokerside.waiting("default")

    at_the_limit = sweep(last_beat + seconds(ALIVE_SECONDS), django_capture_on_commit_callbacks)
    assert at_the_limit == 0
    assert Submission.objects.get(pk=running.pk).state == SubmissionState.RUNNING

    past_it = sweep(last_beat + seconds(ALIVE_SECONDS + 1), django_capture_on_commit_callbacks)

    running.refresh_from_db()
    assert past_it == 1
    assert (running.state, running.claimed_by, running.claimed_worker) == ("queued", "", "")
    assert running.attempts == 1  # a dead worker counts against the submission's attempts
    assert running.sent_at is not None
    assert brokerside.waiting("default") == before + 1


def test_a_slow_worker_that_keeps_beating_keeps_its_submission(
    running, django_capture_on_commit_callbacks
):
    ten_minutes_on = running.state_changed_at + seconds(600)  # within 2 × 300 + 120 s
    heartbeat(
        "w1@host",
        started=running.state_changed_at - seconds(60),
        last_seen=ten_minutes_on - seconds(5),
    )

    assert sweep(ten_minutes_on, django_capture_on_commit_callbacks) == 0
    assert Submission.objects.get(pk=running.pk).claimed_by == "t1"


@pytest.mark.parametrize("life", ["stopped after the claim", "started again after the claim"])
def test_a_worker_that_stopped_or_restarted_since_the_claim_gives_it_back_at_once(
    running, life, django_capture_on_commit_callbacks
):
    claimed_at = running.state_changed_at
    if life == "stopped after the claim":
        heartbeat(
            "w1@host",
            started=claimed_at - seconds(60),
            last_seen=claimed_at + seconds(1),
            stopped=claimed_at + seconds(1),
        )
    else:  # the same node name, a new process: it knows nothing of the old one's grading
        heartbeat("w1@host", started=claimed_at + seconds(1), last_seen=claimed_at + seconds(2))

    assert sweep(claimed_at + seconds(3), django_capture_on_commit_callbacks) == 1
    assert Submission.objects.get(pk=running.pk).state == SubmissionState.QUEUED


def test_a_worker_that_never_wrote_a_heartbeat_is_silent_from_its_claim(
    running, django_capture_on_commit_callbacks
):
    claimed_at = running.state_changed_at

    assert sweep(claimed_at + seconds(ALIVE_SECONDS), django_capture_on_commit_callbacks) == 0
    assert sweep(claimed_at + seconds(ALIVE_SECONDS + 1), django_capture_on_commit_callbacks) == 1


def test_a_stop_of_an_earlier_life_does_not_count_against_a_later_claim(
    running, django_capture_on_commit_callbacks
):
    """The row still says "stopped" from the worker's previous life, and the new life took the
    submission before its first heartbeat: silent only from the claim on."""
    claimed_at = running.state_changed_at
    heartbeat(
        "w1@host",
        started=claimed_at - seconds(600),
        last_seen=claimed_at - seconds(30),
        stopped=claimed_at - seconds(30),
    )

    assert sweep(claimed_at + seconds(5), django_capture_on_commit_callbacks) == 0
    assert sweep(claimed_at + seconds(ALIVE_SECONDS + 1), django_capture_on_commit_callbacks) == 1


def test_two_sweepers_that_read_it_at_once_queue_it_once(
    running, django_capture_on_commit_callbacks
):
    late = running.state_changed_at + seconds(ALIVE_SECONDS + 1)  # no heartbeat row: gone
    first_read = Submission.objects.select_related("assignment").get(pk=running.pk)
    second_read = Submission.objects.select_related("assignment").get(pk=running.pk)
    before = brokerside.waiting("default")

    with django_capture_on_commit_callbacks(execute=True):
        first = sweeper.sweep_one(first_read, beat=None, now=late)
        second = sweeper.sweep_one(second_read, beat=None, now=late)

    assert (first, second) == ("queued again", "")
    assert brokerside.waiting("default") == before + 1


def test_a_submission_its_worker_finished_after_the_sweeper_read_it_is_left_alone(
    running, django_capture_on_commit_callbacks
):
    read = Submission.objects.select_related("assignment").get(pk=running.pk)
    Submission.objects.filter(pk=running.pk).update(state=SubmissionState.GRADED)  # it finished

    with django_capture_on_commit_callbacks(execute=True):
        done = sweeper.sweep_one(read, beat=None, now=read.state_changed_at + seconds(3600))

    assert done == ""
    assert Submission.objects.get(pk=running.pk).state == SubmissionState.GRADED


def test_beat_sweeps_often_enough_for_a_dead_workers_work_to_be_back_in_about_a_minute(settings):
    from autograder.tasks import requeue_stuck_submissions

    entry = settings.CELERY_BEAT_SCHEDULE["requeue-stuck-submissions"]

    assert entry["task"] == requeue_stuck_submissions.name
    assert entry["schedule"] <= ALIVE_SECONDS / 4
