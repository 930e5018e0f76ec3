"""Django's SQLite backend, with this process's writers taking turns in a queue of their own.

SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps longer
after each miss (up to 100 ms) and tries again. Under a class saving at once, a waiter that had
missed a few times kept losing to writers that had just arrived, for the whole timeout: with WAL
alone, 300 students still got "database is locked" 500s. So a transaction first takes a lock
shared by this process's threads (one per database file), then BEGIN IMMEDIATE: the threads of a
process queue on the lock, woken as soon as it is free, and only one of them at a time waits in
SQLite's busy handler against the other processes.

The lock is held from BEGIN to the end of the outermost ``atomic`` block, and released on every
way out of it: COMMIT or ROLLBACK (Django then turns autocommit back on: ``_set_autocommit``), a
BEGIN that failed, and the connection closed (``_close``: an error, a dropped connection, the end
of a request that left a transaction open). Nested ``atomic`` blocks are savepoints and take
nothing. A child process starts with no lock held (``os.register_at_fork``): a lock another
thread held at fork time would otherwise stay held in the child forever.

A single statement outside ``atomic`` (autocommit) is its own transaction and waits in SQLite only.
"""

from __future__ import annotations

import os
import threading

from django.db.backends.sqlite3 import base

from courseapp.config.queued_sqlite3.creation import DatabaseCreation

DEFAULT_WAIT_SECONDS = 5.0  # sqlite3.connect's own default timeout

_write_locks: dict[str, threading.Lock] = {}
os.register_at_fork(after_in_child=_write_locks.clear)


def write_lock(database: str) -> threading.Lock:
    """This process's lock for writing to ``database`` (the NAME of its settings)."""
    # setdefault is atomic under the GIL: every thread gets the same lock.
    return _write_locks.setdefault(str(database), threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
    _held_write_lock: threading.Lock | None = None

    def _start_transaction_under_autocommit(self):
        # Only an outermost transaction starts here, so a lock still held is stale (a way out
        # that raised before releasing it): never wait for oneself.
        self._release_write_lock()
        wait = float(self.settings_dict["OPTIONS"].get("timeout", DEFAULT_WAIT_SECONDS))
        lock = write_lock(self.settings_dict["NAME"])
        if not lock.acquire(timeout=wait):
            with self.wrap_database_errors:
                raise self.Database.OperationalError(
                    f"database is locked: waited {wait:g} s behind this process's other writers"
                )
        self._held_write_lock = lock
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _set_autocommit(self, autocommit):
        try:
            super()._set_autocommit(autocommit)
        finally:
            if autocommit:  # the transaction is over: committed or rolled back
                self._release_write_lock()

    def _close(self):
        try:
            super()._close()
        finally:
            self._release_write_lock()

    def _release_write_lock(self) -> None:
        lock, self._held_write_lock = self._held_write_lock, None
        if lock is not None:
            lock.release()
