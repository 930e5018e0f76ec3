"""On SQLite, writers take turns instead of failing: a class saving at once gets no
"database is locked".

Threads of one process queue for a lock of their own before SQLite's (``queued_sqlite3.base``);
these tests pin that the lock is let go on every way out of a transaction, that nested blocks
and forks never wait for it forever, and that many processes of several threads all writing
read-modify-write transactions at once all get through.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, transaction

from courseapp.config.queued_sqlite3.base import write_lock

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite only (DATABASE_URL names another database)"
)
User = get_user_model()


class Failed(Exception):
    """A request that failed inside its transaction."""


def lock():
    return write_lock(connection.settings_dict["NAME"])


def free() -> bool:
    """Whether this process's write lock is free now (another thread could take it)."""
    if lock().acquire(blocking=False):
        lock().release()
        return True
    return False


@pytest.mark.django_db(transaction=True)
def test_it_holds_the_lock_from_begin_to_commit_and_then_lets_go():
    with transaction.atomic():
        User.objects.create(username="a")
        assert not free()

    assert free()


@pytest.mark.django_db(transaction=True)
def test_it_lets_go_after_a_rollback():
    with pytest.raises(Failed), transaction.atomic():
        User.objects.create(username="a")
        raise Failed

    assert free() and not User.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_nested_blocks_and_select_for_update_keep_the_outer_transactions_lock():
    with transaction.atomic():
        with transaction.atomic():  # a savepoint: takes nothing, never waits for itself
            list(User.objects.select_for_update())  # a no-op on SQLite
            User.objects.create(username="a")
        with pytest.raises(Failed), transaction.atomic():
            User.objects.create(username="b")
            raise Failed
        assert not free()

    assert free() and list(User.objects.values_list("username", flat=True)) == ["a"]


@pytest.mark.django_db(transaction=True)
def test_it_lets_go_when_the_connection_is_closed_inside_the_transaction():
    with transaction.atomic():
        User.objects.create(username="a")
        connection.close()
        assert free()

    assert free() and not User.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_lets_go_when_begin_itself_fails(monkeypatch):
    other = sqlite3.connect(connection.settings_dict["NAME"])
    other.execute("BEGIN IMMEDIATE")  # another process's writer, holding SQLite's lock
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 200")
        with pytest.raises(OperationalError, match="locked"), transaction.atomic():
            pass
        assert free()
    finally:
        other.rollback()
        other.close()
        connection.close()  # the next connection has the settings' busy timeout again


@pytest.mark.django_db(transaction=True)
def test_a_writer_waiting_past_the_timeout_gets_database_is_locked_not_a_hang(monkeypatch):
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)
    lock().acquire()  # another thread of this process, writing
    try:
        with pytest.raises(OperationalError, match="locked"), transaction.atomic():
            pass
    finally:
        lock().release()


def test_a_forked_child_does_not_inherit_a_lock_held_by_another_thread():
    taken, done = threading.Event(), threading.Event()

    def writer():
        with write_lock("forked.sqlite3"):
            taken.set()
            done.wait(timeout=30)

    thread = threading.Thread(target=writer)
    thread.start()
    taken.wait(timeout=30)
    try:
        pid = os.fork()
        if pid == 0:  # the child: the writer thread does not exist here to let go
            os._exit(0 if write_lock("forked.sqlite3").acquire(timeout=2) else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        done.set()
        thread.join(timeout=30)

    assert os.waitstatus_to_exitcode(status) == 0


WRITER = """
import json, sys, threading, time
import django
from django.conf import settings
from courseapp.config import queued_sqlite3
path, threads, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
config = queued_sqlite3.configured({"NAME": path})
config["OPTIONS"].update(json.loads(sys.argv[4]))
settings.configure(DATABASES={"default": config}, USE_TZ=True)
django.setup()
from django.db import OperationalError, connection, transaction
failures = []

def write():
    for _ in range(rounds):
        try:
            with transaction.atomic():  # read, then write what was read: a lost update shows
                with connection.cursor() as cursor:
                    cursor.execute("SELECT n FROM counter WHERE id = 1")
                    n = cursor.fetchone()[0]
                    time.sleep(0.002)
                    cursor.execute("UPDATE counter SET n = %s WHERE id = 1", [n + 1])
        except OperationalError as exc:
            failures.append(str(exc))
    connection.close()

print("ready", flush=True)
sys.stdin.readline()  # every process starts writing at the same moment
workers = [threading.Thread(target=write) for _ in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print(json.dumps(failures), flush=True)
"""


def writers_at_once(path: Path, processes: int, threads: int, rounds: int, options: dict):
    """The failures of ``processes`` x ``threads`` writers, each writing ``rounds`` times."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    started = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                str(path),
                str(threads),
                str(rounds),
                json.dumps(options),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for _ in range(processes)
    ]
    for process in started:
        assert process.stdout.readline().strip() == "ready"
    for process in started:
        process.stdin.write("go\n")
        process.stdin.flush()
    failures = []
    for process in started:
        out, _ = process.communicate(timeout=240)
        assert process.returncode == 0
        failures += json.loads(out)
    return failures


@pytest.mark.slow
def test_four_processes_of_three_threads_writing_at_once_all_get_through(tmp_path):
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
        setup.execute("INSERT INTO counter VALUES (1, 0)")
    setup.close()

    failures = writers_at_once(path, processes=4, threads=3, rounds=20, options={})

    assert failures == []
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT n FROM counter").fetchone()[0] == 4 * 3 * 20
    check.close()
