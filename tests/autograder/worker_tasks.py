"""Tasks that exist only for the worker tests; the test worker loads them with --include."""

from __future__ import annotations

import os
import time

from autograder.queues import grading_task
from courseapp.config.celery import app


@grading_task(time_limit=30, queue="gpu", bind=True, name="tests.report_delivery")
def report_delivery(self) -> dict:
    return {"pid": os.getpid(), "routing_key": self.request.delivery_info.get("routing_key")}


@app.task(name="tests.hold")
def hold(seconds: float) -> int:
    """Keep a worker busy (as a long grading does) for ``seconds``."""
    time.sleep(seconds)
    return os.getpid()


@app.task(name="tests.visible_gpus")
def visible_gpus(seconds: float) -> dict:
    """Which GPUs this pool process may use, after holding it ``seconds`` (so that the next
    message goes to another pool process)."""
    time.sleep(seconds)
    return {"pid": os.getpid(), "gpus": os.environ.get("CUDA_VISIBLE_DEVICES")}
