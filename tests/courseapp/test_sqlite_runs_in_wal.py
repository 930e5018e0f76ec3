"""The embedded SQLite database runs in WAL mode, so a save is never held back by a page being read.

With the rollback journal, a COMMIT waits for every open read to finish; under a class at once
that wait ran past the timeout ("database is locked"). Checked on the test database itself, which
is opened with the same options as the site's.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.utils import ConnectionHandler

from courseapp.config import queued_sqlite3

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite only (DATABASE_URL names another database)"
)


@pytest.mark.django_db
def test_it_opens_connections_in_wal_with_normal_synchronous_writes():
    with connection.cursor() as cursor:
        journal = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
        busy_ms = cursor.execute("PRAGMA busy_timeout").fetchone()[0]

    assert (journal, synchronous) == ("wal", 1)  # 1: NORMAL
    assert busy_ms == queued_sqlite3.WAIT_SECONDS * 1000
    assert connection.settings_dict["CONN_MAX_AGE"] is None  # a thread keeps its connection


@pytest.fixture
def short_busy_wait():
    """The test's connection gives up on a held lock after 1 s, not 20 (a failure is quick)."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 1000")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA busy_timeout = {queued_sqlite3.WAIT_SECONDS * 1000}")


@pytest.mark.django_db(transaction=True)
def test_it_commits_while_another_connection_is_in_the_middle_of_a_read(short_busy_wait):
    reader = sqlite3.connect(connection.settings_dict["NAME"])
    try:
        rows = reader.execute("SELECT * FROM django_migrations")
        assert rows.fetchone() is not None  # the read is open: more rows are left to fetch
        began = time.monotonic()

        with transaction.atomic():
            get_user_model().objects.create(username="saved-while-read")

        assert time.monotonic() - began < 0.9  # no wait for the reader to finish
        assert rows.fetchone() is not None  # and the reader read on
    finally:
        reader.close()
    assert get_user_model().objects.filter(username="saved-while-read").exists()


def test_a_test_database_is_made_and_dropped_with_its_wal_files(tmp_path):
    """A -wal file left from an earlier run would be replayed into the new test database."""
    name = tmp_path / "test-db.sqlite3"
    wrapper = ConnectionHandler(
        {"default": queued_sqlite3.configured({"NAME": "unused", "TEST": {"NAME": str(name)}})}
    )["default"]  # a handler of its own: not the connections of this test session
    leftovers = [name, *queued_sqlite3.side_files(name)]
    for path in leftovers:  # an earlier run, killed before it could clean up
        path.write_bytes(b"old")

    assert wrapper.creation._create_test_db(verbosity=0, autoclobber=True) == str(name)
    assert not any(path.exists() for path in leftovers)

    with sqlite3.connect(name) as plain:  # the run, in WAL: the side files are there
        plain.execute("PRAGMA journal_mode=WAL")
        plain.execute("CREATE TABLE t (x)")
        assert all(path.exists() for path in queued_sqlite3.side_files(name))
        wrapper.creation._destroy_test_db(str(name), verbosity=0)
    plain.close()

    assert not any(path.exists() for path in leftovers)
