"""What the real broker holds: messages waiting in a queue, and emptying one after a test that
sent messages no worker will take."""

from __future__ import annotations

from autograder import workers
from courseapp.config.celery import app


def waiting(queue: str = "default") -> int:
    lengths, error = workers.broker_queue_lengths([queue])
    assert not error, error
    return lengths[queue]


def purge(queue: str = "default") -> None:
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)
