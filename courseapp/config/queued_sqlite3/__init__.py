"""SQLite as the embedded default runs it: tuned for a class writing at once, on one machine.

``ENGINE`` names this package, whose ``base`` is Django's SQLite backend with one addition (see
``base.py``). What the options buy, measured with ``bench/quiz_burst.py`` (README, "Configuration"):

- ``journal_mode=WAL``: readers never block the writer, and a COMMIT never waits for a reader to
  finish (with the rollback journal, one long page view held every save back);
- ``synchronous=NORMAL``: a COMMIT appends to the WAL without waiting for the disk to sync (a
  power cut may lose the last transactions; a crashed process loses nothing);
- ``transaction_mode=IMMEDIATE``: a transaction takes the write lock at BEGIN, where SQLite waits
  for it, instead of failing at once when a reader upgrades to a writer mid-transaction;
- ``timeout``: how long a writer waits for the lock, in SQLite and in ``base``'s queue;
- ``CONN_MAX_AGE=None``: a thread keeps its connection (no open and PRAGMAs per request).

This module is imported by the settings; it imports nothing of Django's database layer.
"""

from __future__ import annotations

from pathlib import Path

ENGINE = "courseapp.config.queued_sqlite3"
WAIT_SECONDS = 20
# The files SQLite keeps beside the database in WAL mode; they are part of it (recent commits
# live in the -wal file until a checkpoint). Copy, move or delete them with the database.
SIDE_FILE_SUFFIXES = ("-wal", "-shm")


def configured(config: dict) -> dict:
    """``config`` (a SQLite database from ``env.database_config``) as this project runs it."""
    return {
        **config,
        "ENGINE": ENGINE,
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": WAIT_SECONDS,
        },
        "CONN_MAX_AGE": None,
    }


def side_files(database: str | Path) -> list[Path]:
    """The -wal and -shm files of the database file ``database``, present or not."""
    return [Path(f"{database}{suffix}") for suffix in SIDE_FILE_SUFFIXES]
