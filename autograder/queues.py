"""The grading queues, and the one decorator every autograding task uses.

``grading_task`` names a task's queue; ``route_to_task_queue`` (the project's
``CELERY_TASK_ROUTES``) sends the task there. Apps reach Celery only through ``shared_task`` and
``celery.current_app``, never through the configuration module: loading the settings loads the
project's app (``courseapp.config``), and Celery's Django fix-up makes it the default app of every
thread, so ``current_app`` is that app in the web process, the workers and the tests alike.
"""

from __future__ import annotations

from celery import shared_task

GRADING_QUEUES = ("default", "gpu")


def route_to_task_queue(name, args, kwargs, options, task=None, **kw):
    """Celery router (``CELERY_TASK_ROUTES``): send a task to the queue its decorator named.

    A queue given to ``apply_async`` still wins, as with any router.
    """
    queue = getattr(task, "route_queue", None)
    return {"queue": queue} if queue else None


def grading_task(*, time_limit: int, queue: str = "default", **options):
    """The decorator every autograding task uses.

    ``acks_late`` with ``reject_on_worker_lost``: a worker killed mid-run leaves the message on the
    broker, so another worker grades the submission again (the task itself must be idempotent). The
    soft limit is 0.9 of the hard one, so the task can record a timeout before it is killed.
    """
    if queue not in GRADING_QUEUES:
        raise ValueError(f"queue must be one of {GRADING_QUEUES}, not {queue!r}")
    return shared_task(
        acks_late=True,
        reject_on_worker_lost=True,
        time_limit=time_limit,
        soft_time_limit=time_limit * 0.9,
        route_queue=queue,
        **options,
    )
