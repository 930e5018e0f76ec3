"""A real Celery worker, in its own process, takes tasks from the configured broker.

Redis at REDIS_URL when it is set (CI), the embedded Redis server on var/test/'s socket otherwise
(started by the session's ``broker`` fixture). Nothing here runs tasks eagerly or mocks the broker.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from autograder.queues import grading_task
from autograder.tasks import worker_ping
from courseapp.config.celery import app
from tests.autograder.worker_tasks import report_delivery

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def start_worker(queues: list[str], log_path: Path, **extra_env: str) -> subprocess.Popen:
    """A worker process on ``queues``; ``POOL=prefork`` for a pool child per task (default solo)."""
    pool = extra_env.pop("POOL", "solo")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "courseapp.config.test_settings",
        "VAR_DIR": str(settings.VAR_DIR),
        **extra_env,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "courseapp.config",
        "worker",
        "--queues",
        ",".join(queues),
        "--include",
        "tests.autograder.worker_tasks",
        "--pool",
        pool,
        "--concurrency",
        "1",
        "--hostname",
        f"test-{uuid.uuid4().hex[:8]}@%h",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
    ]
    log = log_path.open("w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def wait_until_graded_or_failed(submission, worker: subprocess.Popen, timeout: float = 180):
    """Poll ``submission`` until it is graded or failed, or ``worker`` exits, or ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        submission.refresh_from_db()
        if submission.state in ("graded", "failed") or worker.poll() is not None:
            return
        time.sleep(0.2)


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    """One worker for the module, on the two real queues and one private to this run."""
    private = f"test-{uuid.uuid4().hex[:8]}"
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    process = start_worker(["default", "gpu", private], log_path)
    process.private_queue = private
    process.log_path = log_path
    yield process
    stop_worker(process)


def wait_for(result, worker, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result.ready():
            return result.get(timeout=1)
        if worker.poll() is not None:
            raise AssertionError(f"worker exited:\n{worker.log_path.read_text()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(
        f"no result in {timeout} s; worker log:\n{worker.log_path.read_text()[-3000:]}"
    )


def test_it_executes_a_task_in_the_worker_process(worker):
    result = worker_ping.apply_async(kwargs={"sent_at": time.time()}, queue=worker.private_queue)

    answer = wait_for(result, worker)

    assert answer["pid"] == worker.pid
    assert answer["pid"] != os.getpid()
    assert answer["queue_delay_s"] >= 0


def test_it_uses_the_broker_the_environment_names(worker):
    from courseapp.config import embedded_redis

    expected = os.environ.get("REDIS_URL") or embedded_redis.url(settings.VAR_DIR)

    assert settings.CELERY_BROKER_URL == settings.CELERY_RESULT_BACKEND == expected
    assert app.connection_for_write().transport.driver_type == "redis"  # as in production


def test_a_grading_task_goes_to_its_queue(worker):
    answer = wait_for(report_delivery.delay(), worker)

    assert answer == {"pid": worker.pid, "routing_key": "gpu"}


def test_the_worker_ping_command_reports_the_worker(worker):
    wait_for(worker_ping.apply_async(kwargs={"sent_at": 0}, queue="default"), worker)  # warm
    out = StringIO()

    call_command("worker_ping", "--queue", "gpu", "--timeout", "120", stdout=out)

    assert "answered on queue 'gpu'" in out.getvalue()
    assert re.match(r"worker test-[0-9a-f]{8}@\S+ \(host \S+, pid \d+\)", out.getvalue())


def test_the_grading_task_decorator_sets_late_acks_and_limits():
    @grading_task(time_limit=100, name="tests.limits_only")
    def limits_only():
        return None

    assert limits_only.acks_late is True
    assert limits_only.reject_on_worker_lost is True
    assert (limits_only.time_limit, limits_only.soft_time_limit) == (100, 90)

    @grading_task(time_limit=1, name="tests.short")
    def short():
        return None

    assert short.soft_time_limit == 0.9  # not int(0.9) == 0, which Celery reads as "no limit"
    assert limits_only.route_queue == "default"
    assert report_delivery.route_queue == "gpu"
    with pytest.raises(ValueError, match="queue must be one of"):
        grading_task(time_limit=10, queue="fast")
