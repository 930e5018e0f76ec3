"""Test databases in WAL mode: their -wal and -shm files go with them.

Django's SQLite creation deletes and copies only the database file. A -wal file left beside a new
database of the same name would be replayed into it on first open (SQLite's recovery), and a copy
without the -wal file misses the commits not yet checkpointed into the database.
"""

from __future__ import annotations

from django.db.backends.sqlite3 import creation

from courseapp.config.queued_sqlite3 import side_files


class DatabaseCreation(creation.DatabaseCreation):
    def _create_test_db(self, verbosity, autoclobber, keepdb=False):
        name = self._get_test_db_name()
        if not keepdb and not self.is_in_memory_db(name):
            _remove_side_files(name)
        return super()._create_test_db(verbosity, autoclobber, keepdb)

    def _clone_test_db(self, suffix, verbosity, keepdb=False):
        if not self.is_in_memory_db(self.connection.settings_dict["NAME"]):
            with self.connection.cursor() as cursor:  # everything into the file shutil copies
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if not keepdb:
                _remove_side_files(self.get_test_db_clone_settings(suffix)["NAME"])
        super()._clone_test_db(suffix, verbosity, keepdb)

    def _destroy_test_db(self, test_database_name, verbosity):
        super()._destroy_test_db(test_database_name, verbosity)
        if test_database_name and not self.is_in_memory_db(test_database_name):
            _remove_side_files(test_database_name)


def _remove_side_files(database) -> None:
    for path in side_files(database):
        path.unlink(missing_ok=True)
