"""The broker under load: a thousand messages sent as fast as the client can, to a live worker
process, all arrive, all are answered, and the worker is still running afterwards.

The old embedded default (kombu's filesystem transport) let the worker read a message file
before the sender had finished writing it; the worker died with "Unrecoverable error" after a
few hundred messages, and everything sent after that waited forever.
"""

from __future__ import annotations

import time
import uuid

import pytest

from autograder.tasks import worker_ping
from tests.autograder.test_celery_worker import start_worker, stop_worker

pytestmark = pytest.mark.slow
MESSAGES = 1000


def test_it_delivers_a_thousand_messages_sent_as_fast_as_possible(tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    worker = start_worker([queue], log)
    try:
        results = [
            worker_ping.apply_async(kwargs={"sent_at": time.time()}, queue=queue)
            for _ in range(MESSAGES)
        ]
        deadline = time.monotonic() + 300
        pending = list(results)
        while pending and time.monotonic() < deadline and worker.poll() is None:
            pending = [r for r in pending if not r.ready()]
            time.sleep(0.2)
        alive = worker.poll() is None
    finally:
        stop_worker(worker)
    assert alive, f"the worker died:\n{log.read_text()[-3000:]}"
    assert not pending, f"{len(pending)} of {MESSAGES} unanswered:\n{log.read_text()[-3000:]}"
    assert {r.get(timeout=5)["pid"] for r in results} == {worker.pid}
    for result in results:
        result.forget()  # a thousand results need not wait a day in a shared Redis
