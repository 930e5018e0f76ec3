"""Worker health: a real worker reports itself (queues, isolation, device) while it runs and when
it stops, and the broker is asked how many messages wait in a queue."""

from __future__ import annotations

import datetime
import time
import uuid

import pytest
from django.utils import timezone
from kombu import Connection

from autograder import workers
from autograder.checks.reference import best_device
from autograder.models import Assignment, Submission, WorkerHeartbeat
from autograder.sandbox import isolation_level
from autograder.services.assignments import assignment_import
from autograder.tasks import worker_ping
from courseapp.config.celery import app
from tests.autograder.nbfactory import source_bytes
from tests.autograder.test_celery_worker import start_worker, stop_worker
from tests.autograder.test_worker_grades_a_submission import database_url


def wait_until(condition, worker, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if worker.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"not seen in {timeout} s:\n{worker.log_path.read_text()[-3000:]}")


@pytest.mark.slow
def test_a_running_worker_reports_itself_and_says_when_it_stops(transactional_db, tmp_path):
    worker = start_worker(["default", "gpu"], tmp_path / "worker.log", DATABASE_URL=database_url())
    worker.log_path = tmp_path / "worker.log"
    try:
        beat = wait_until(lambda: WorkerHeartbeat.objects.first(), worker)
        [state] = workers.worker_states()
        assert state.alive and state.heartbeat.stopped_at is None
        assert beat.queues == ["default", "gpu"]
        assert beat.isolation == isolation_level()
        assert beat.device == best_device()
        assert beat.pid == worker.pid
    finally:
        stop_worker(worker)
    beat.refresh_from_db()
    assert beat.stopped_at is not None
    assert not workers.worker_states()[0].alive
    assert "isolation" in worker.log_path.read_text()


def _beat(hostname: str, seconds_ago: int, **fields) -> WorkerHeartbeat:
    now = timezone.now()
    return WorkerHeartbeat.objects.create(
        hostname=hostname,
        queues=["default"],
        isolation="bubblewrap",
        pid=1,
        started_at=now - datetime.timedelta(hours=1),
        last_seen_at=now - datetime.timedelta(seconds=seconds_ago),
        **fields,
    )


def test_a_worker_silent_for_three_heartbeats_is_not_alive(db):
    _beat("fresh@host", 5)
    _beat("silent@host", workers.ALIVE_SECONDS + 1)
    _beat("gone@host", 8 * 24 * 3600)

    states = workers.worker_states()

    assert [(s.heartbeat.hostname, s.alive) for s in states] == [
        ("fresh@host", True),
        ("silent@host", False),
    ]
    queues, error = workers.queue_states(workers=states)
    assert error == ""
    assert {q.name: q.listeners for q in queues} == {"default": 1, "gpu": 0}


@pytest.mark.slow
def test_the_broker_says_how_many_messages_wait_in_a_queue(db):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    assert workers.broker_queue_lengths([queue]) == ({queue: 0}, "")
    for _ in range(3):
        worker_ping.apply_async(kwargs={"sent_at": 0}, queue=queue, expires=60)
    try:
        assert workers.broker_queue_lengths([queue]) == ({queue: 3}, "")
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)


def test_a_broker_that_does_not_answer_is_reported_not_raised(db, monkeypatch):
    monkeypatch.setattr(app, "connection_for_read", lambda: Connection("redis://127.0.0.1:1//"))

    lengths, error = workers.broker_queue_lengths(["default"], timeout=1)

    assert lengths == {}
    assert "Connection refused" in error, error


def test_the_queues_count_queued_and_running_submissions_by_where_they_go(
    db, assignment, student, other_student, monkeypatch
):
    monkeypatch.setattr(workers, "broker_queue_lengths", lambda names: ({}, "down"))
    gpu = assignment_import(
        course=assignment.course, slug="gpu", title="GPU", files={"a1.ipynb": source_bytes()}
    )
    Assignment.objects.filter(pk=gpu.pk).update(wants_gpu=True)
    for number, (on, who, state) in enumerate(
        [
            (assignment, student, "queued"),
            (assignment, other_student, "queued"),
            (assignment, student, "running"),
            (assignment, student, "graded"),
            (gpu, student, "queued"),
        ],
        start=1,
    ):
        Submission.objects.create(assignment=on, student=who, number=number, state=state)

    queues, error = workers.queue_states(workers=[])

    assert error == "down"
    assert [(q.name, q.in_broker, q.waiting, q.running) for q in queues] == [
        ("default", None, 2, 1),
        ("gpu", None, 1, 0),
    ]
