"""Worker health: each worker's heartbeat, and how many messages wait in each grading queue.

A worker writes a ``WorkerHeartbeat`` row when it is ready (before it takes any task), every
``HEARTBEAT_SECONDS`` from a thread of its own (so a long grading does not make it look dead), and
when it shuts down. The staff dashboard reads the rows and asks the broker for its queue lengths;
the sweeper reads them to give a dead worker's submissions back (``claim_orphaned``). Heartbeat
times are the database's clock, as are claim times, so machines whose clocks differ agree.
"""

from __future__ import annotations

import datetime
import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass

from celery import current_app
from django.db import close_old_connections, connection
from django.db.models import Count
from django.db.models.functions import Now
from django.utils import timezone
from kombu.exceptions import ChannelError

from autograder import blobs
from autograder.checks.reference import best_device
from autograder.models import Submission, SubmissionState, WorkerHeartbeat, grading_queue
from autograder.queues import GRADING_QUEUES
from autograder.sandbox import isolation_level
from autograder.warmup import warm_worker

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 20
# A worker silent for three heartbeats is not counted as alive.
ALIVE_SECONDS = 3 * HEARTBEAT_SECONDS


def heartbeat_write(
    *,
    hostname: str,
    queues: list[str],
    concurrency: int,
    isolation: str,
    device: str,
    starting: bool = False,
    stopped: bool = False,
) -> None:
    """``starting``: this is the first word of a new life of the worker; its ``started_at``."""
    fields = {
        "queues": sorted(queues),
        "isolation": isolation,
        "device": device,
        "pid": os.getpid(),
        "concurrency": concurrency,
        "last_seen_at": Now(),
        "stopped_at": Now() if stopped else None,
    }
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={**fields, "started_at": Now()} if starting else fields,
        create_defaults={**fields, "started_at": Now()},
    )


def claim_orphaned(*, claimed_at, beat: WorkerHeartbeat | None, now) -> bool:
    """Whether the worker that claimed a submission at ``claimed_at`` is gone, so that nobody
    will finish it. All three times are the database's clock.

    Gone: it said it stopped, or it started a new life, after the claim; or nothing was heard
    from it for ``ALIVE_SECONDS`` (no heartbeat since the claim, or no row at all: a worker that
    never wrote one). A worker that is only slow keeps beating from its own thread."""
    if beat is not None:
        if beat.started_at > claimed_at:
            return True
        if beat.stopped_at is not None and beat.stopped_at >= claimed_at:
            return True
    heard = claimed_at if beat is None else max(beat.last_seen_at, claimed_at)
    return (now - heard).total_seconds() > ALIVE_SECONDS


class Heartbeat:
    """The thread that keeps one worker's row fresh. Database errors are logged, never raised:
    a missing heartbeat must not stop grading."""

    def __init__(self, *, hostname: str, queues: list[str], concurrency: int) -> None:
        self.row = {
            "hostname": hostname,
            "queues": queues,
            "concurrency": concurrency,
            "isolation": isolation_level(),
            "device": best_device(),
        }
        self._started_written = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        """The first heartbeat is written here, before the worker takes a task, so that its
        ``started_at`` precedes every claim of this life of the worker."""
        logger.info(
            "worker %s: isolation %s, device %s, queues %s, files in %s",
            self.row["hostname"],
            self.row["isolation"],
            self.row["device"],
            ",".join(self.row["queues"]),
            blobs.where(),
        )
        self._write()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._write(stopped=True)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            self._write()

    def _write(self, *, stopped: bool = False) -> None:
        try:
            close_old_connections()
            heartbeat_write(**self.row, starting=not self._started_written, stopped=stopped)
            self._started_written = True
        except Exception:
            logger.exception("could not write the heartbeat of %s", self.row["hostname"])
        finally:
            connection.close()  # the worker's tasks open their own when they need one


_current: Heartbeat | None = None


def on_worker_ready(sender, **kwargs) -> None:
    """``celery.signals.worker_ready``: the consumer is connected; start beating."""
    global _current
    queues = [q.name for q in sender.task_consumer.queues] if sender.task_consumer else []
    _current = Heartbeat(
        hostname=sender.hostname, queues=queues, concurrency=sender.pool.limit or 1
    )
    _current.start()


def on_worker_shutdown(sender=None, **kwargs) -> None:
    """``celery.signals.worker_shutdown``: say that this worker stopped on purpose."""
    if _current is not None:
        _current.stop()


def on_worker_process_init(sender=None, **kwargs) -> None:
    """``celery.signals.worker_process_init``: in each pool process (with the solo pool, the
    worker itself), before it takes a task. A worker that grades is warmed here
    (``autograder.warmup``), so that its first submission is graded as fast as the next ones; a
    worker only on other queues (the housekeeper) is not. Never fails the start."""
    try:
        if takes_gradings(current_app.amqp.queues.consume_from):
            warm_worker()
    except Exception:
        logger.exception("could not warm worker process %d; it grades all the same", os.getpid())


def takes_gradings(consumed) -> bool:
    """Whether a worker consuming the queues named in ``consumed`` grades. (Celery's
    ``consume_from``: the ``--queues`` given, else every queue the settings define.)"""
    return any(name in consumed for name in GRADING_QUEUES)


@dataclass(frozen=True)
class WorkerState:
    heartbeat: WorkerHeartbeat
    alive: bool
    seconds_ago: int


def worker_states(*, now: datetime.datetime | None = None, days: int = 7) -> list[WorkerState]:
    """Workers heard from in the last ``days``, alive ones first."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=days)
    states = []
    for beat in WorkerHeartbeat.objects.filter(last_seen_at__gte=since):
        ago = int((now - beat.last_seen_at).total_seconds())
        alive = beat.stopped_at is None and ago <= ALIVE_SECONDS
        states.append(WorkerState(beat, alive, ago))
    return sorted(states, key=lambda s: (not s.alive, s.seconds_ago))


@dataclass(frozen=True)
class QueueState:
    name: str
    in_broker: int | None  # None: the broker could not be asked
    waiting: int  # submissions queued in the database for this queue
    running: int
    listeners: int  # alive workers consuming it


def queue_states(*, workers: list[WorkerState] | None = None) -> tuple[list[QueueState], str]:
    """Each grading queue: messages in the broker, queued and running submissions by the
    database, and the alive workers on it; plus the broker's error, if it could not be asked."""
    workers = worker_states() if workers is None else workers
    in_broker, error = broker_queue_lengths(GRADING_QUEUES)
    pending = (
        Submission.objects.filter(state__in=[SubmissionState.QUEUED, SubmissionState.RUNNING])
        .values_list("state", "assignment__wants_gpu")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = Counter()
    for state, gpu, n in pending:
        counts[(grading_queue(gpu), state)] += n
    states = [
        QueueState(
            name=name,
            in_broker=in_broker.get(name),
            waiting=counts[(name, SubmissionState.QUEUED)],
            running=counts[(name, SubmissionState.RUNNING)],
            listeners=sum(1 for w in workers if w.alive and name in w.heartbeat.queues),
        )
        for name in GRADING_QUEUES
    ]
    return states, error


def broker_queue_lengths(names, *, timeout: float = 2.0) -> tuple[dict[str, int], str]:
    """Messages waiting in each queue; a queue the broker does not know holds none. On a broker
    error: ``({}, reason)``.

    Kombu's virtual transports (Redis, the filesystem) count with the channel's ``_size``, as
    Celery's own ``inspect`` tools do: their passive declare looks up the Redis key without the
    ``global_keyprefix``, and so misses queues that hold messages. Other brokers (AMQP) answer a
    passive declare, which creates nothing."""
    lengths = {}
    try:
        with current_app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
            channel = conn.default_channel
            size = getattr(channel, "_size", None)
            for name in names:
                try:
                    if size:
                        lengths[name] = size(name)
                    else:
                        lengths[name] = channel.queue_declare(
                            queue=name, passive=True
                        ).message_count
                except ChannelError:
                    lengths[name] = 0
    except Exception as exc:  # the broker is down or refuses: say so on the page, don't fail it
        return {}, f"{exc.__class__.__name__}: {exc}"
    return lengths, ""
