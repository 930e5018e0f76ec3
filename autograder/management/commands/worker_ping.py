"""``manage.py worker_ping``: send one task through the broker and wait for a worker to answer."""

from __future__ import annotations

import time

from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from autograder.tasks import worker_ping


class Command(BaseCommand):
    help = "Send a ping task to the Celery workers and print which worker answered."

    def add_arguments(self, parser):
        parser.add_argument("--queue", default="default", choices=["default", "gpu"])
        parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait")

    def handle(self, *args, queue: str, timeout: float, **options):
        broker = settings.BROKER_DISPLAY_URL
        started = time.monotonic()
        # expires: a ping nobody took in time is dropped, not answered by the next worker to start.
        result = worker_ping.apply_async(
            kwargs={"sent_at": time.time()}, queue=queue, expires=timeout
        )
        try:
            answer = result.get(timeout=timeout)
        except CeleryTimeout as exc:
            raise CommandError(
                f"No worker answered on queue {queue!r} within {timeout:g} s (broker {broker}). "
                "Is a worker for that queue running? `make run` starts one; on a deployment, "
                "deploy/bin/worker (default) or deploy/bin/gpu-worker (gpu)."
            ) from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        self.stdout.write(
            f"worker {answer.get('node') or answer['hostname']} (host {answer['hostname']}, "
            f"pid {answer['pid']}) answered on queue {queue!r} "
            f"in {elapsed_ms:.0f} ms via {broker}"
        )
