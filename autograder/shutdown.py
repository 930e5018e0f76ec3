"""A worker's calm stop: SIGTERM (or one Ctrl-C) finishes the gradings in flight, and says so.

Celery's warm shutdown already waits for the tasks in flight; two things made it look like a
crash. Process managers that stop a process by signalling its whole process group (honcho, which
`make run` uses; foreman; supervisord's ``killasgroup``) sent SIGTERM to the pool processes too,
which died mid-grading ("Process 'ForkPoolWorker-1' exited with 'signal 15 (SIGTERM)'") and
left the grading to the sweeper. So each pool process leaves the worker's process group as it
starts: a signal to the group reaches the main process only, which stops its pool warm. (systemd
signals a unit's whole cgroup, whatever the groups: the units use ``KillMode=mixed``.) And nothing
said what the worker was waiting for: ``on_worker_shutting_down`` logs the gradings in flight and
``on_worker_shutdown`` that they are done.

A cold shutdown (SIGQUIT, or a second Ctrl-C in a terminal) hands them back instead: the grading
tasks acknowledge late, so their messages go back to the queue and the next worker grades them.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)


def on_worker_process_init(sender=None, **kwargs) -> None:
    """``celery.signals.worker_process_init``: a prefork pool process leaves the worker's process
    group (see the module's docstring). The solo pool runs tasks in the main process, which stays
    where its supervisor put it."""
    from billiard.process import current_process

    if current_process().name == "MainProcess":
        return
    try:
        os.setpgid(0, 0)
    except OSError:
        logger.warning("pool process %d stays in the worker's process group", os.getpid())


def on_worker_shutting_down(sender=None, sig=None, how=None, **kwargs) -> None:
    """``celery.signals.worker_shutting_down``, in the main process's signal handler: say what the
    worker does with the tasks in flight."""
    from celery.worker import state

    if how != "Warm":
        # Celery has cancelled them already (active_requests is empty by now); kombu logs
        # "Restoring N unacknowledged message(s)" as it puts them back.
        logger.info(
            "cold shutdown (%s): the tasks in flight are stopped and handed back to the queue "
            "for the next worker",
            sig,
        )
        return
    in_flight = sorted(f"{r.name}[{r.id}]" for r in state.active_requests)
    if not in_flight:
        logger.info("warm shutdown (%s): no task in flight; stopping", sig)
    else:
        logger.info(
            "warm shutdown (%s): finishing %d task(s) in flight before stopping: %s "
            "(SIGQUIT hands them back to the queue instead)",
            sig,
            len(in_flight),
            ", ".join(in_flight),
        )


def on_worker_shutdown(sender=None, **kwargs) -> None:
    """``celery.signals.worker_shutdown``: the pool has stopped; the last line a worker logs."""
    logger.info("worker %s stopped", getattr(sender, "hostname", ""))
